using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Appliance.Storage;

namespace Appliance.Bench.Storage;

/// <summary>Record payloads that look like what sessions produce: statements of about 100 bytes and result rows of about 4 KB.</summary>
internal static class StoreBenchmarkData
{
    private static readonly string[] s_words =
        ["customer", "order", "shipped", "pending", "invoice", "refund", "north", "south", "east", "west", "priority", "standard", "express", "widget", "gadget", "bolt"];

    /// <summary>Statement texts of about 100 bytes.</summary>
    public static byte[][] Statements(int count, int seed = 1)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => Encoding.UTF8.GetBytes(
            ($"select id, name, email, status from public.orders where customer_id = {random.Next(1_000_000)} and region = '{s_words[random.Next(s_words.Length)]}'"
                + " order by id limit 100").PadRight(100)[..100]))];
    }

    /// <summary>DataRow bodies of exactly <paramref name="size"/> bytes with text columns (ids, words, emails, amounts).</summary>
    public static byte[][] Rows(int count, int size = 4096, int seed = 2)
    {
        var random = new Random(seed);
        var rows = new byte[count][];
        for (var r = 0; r < count; r++)
        {
            var row = new byte[size];
            var at = 2;
            short columns = 0;
            while (true)
            {
                var text = (columns % 4) switch
                {
                    0 => random.Next(1, 10_000_000).ToString(CultureInfo.InvariantCulture),
                    1 => $"{s_words[random.Next(s_words.Length)]}.{s_words[random.Next(s_words.Length)]}{random.Next(1000)}@example.com",
                    2 => (random.Next(100_000) / 100.0).ToString("0.00", CultureInfo.InvariantCulture),
                    _ => string.Join(' ', Enumerable.Range(0, 8).Select(_ => s_words[random.Next(s_words.Length)])),
                };
                var bytes = Encoding.UTF8.GetBytes(text);
                if (at + 4 + bytes.Length > size - 4)
                {
                    break; // leaves room for the padding column
                }
                BinaryPrimitives.WriteInt32BigEndian(row.AsSpan(at), bytes.Length);
                bytes.CopyTo(row, at + 4);
                at += 4 + bytes.Length;
                columns++;
            }
            // Pad the last column so every row has the same size.
            var pad = size - at - 4;
            BinaryPrimitives.WriteInt32BigEndian(row.AsSpan(at), pad);
            row.AsSpan(at + 4, pad).Fill((byte)'.');
            BinaryPrimitives.WriteInt16BigEndian(row, (short)(columns + 1));
            rows[r] = row;
        }
        return rows;
    }

    private static readonly Guid[] s_sessions = [.. Enumerable.Range(0, 64).Select(n => new Guid(n, 7, 7, [1, 2, 3, 4, 5, 6, 7, 8]))];

    /// <summary>One of 64 session ids (cached: the benchmarks must not allocate per record).</summary>
    public static Guid Session(int n) => s_sessions[n & 63];

    public static StoreOptions Options(string directory) => new()
    {
        Directory = directory,
        Fsync = FsyncPolicy.Interval,
        FsyncInterval = TimeSpan.FromSeconds(1),
        QueueBytes = 8 * 1024 * 1024,
        RetentionMaxTotalBytes = 1L << 30,
        RetentionCheckInterval = TimeSpan.FromSeconds(1),
    };
}

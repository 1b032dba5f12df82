using System.Text;

namespace Appliance.Storage.Tests;

/// <summary>Deterministic records: payload text derived from session and sequence, so a read can be checked without keeping them.</summary>
internal static class TestRecords
{
    public static readonly DateTimeOffset Start = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public static Guid Session(int n) => new(n, 0, 0, [0, 0, 0, 0, 0, 0, 0, 1]);

    public static RecordHeader Header(int session, int sequence, byte type = 1, DateTimeOffset? at = null) =>
        new(type, Session(session), (ulong)sequence, StoreTime.ToUnixMicroseconds(at ?? Start.AddMilliseconds(sequence)));

    public static byte[] Payload(int session, int sequence, int size = 0)
    {
        var text = $"session {session} record {sequence} ";
        var bytes = new byte[Math.Max(size, Encoding.ASCII.GetByteCount(text))];
        Encoding.ASCII.GetBytes(text, bytes);
        for (var i = text.Length; i < bytes.Length; i++)
        {
            bytes[i] = (byte)('a' + (i * 7 + sequence) % 26);
        }
        return bytes;
    }

    /// <summary>Appends and waits for the writer to have everything on disk.</summary>
    public static long AppendMany(SegmentStore store, int sessions, int perSession, int size = 0)
    {
        long last = 0;
        for (var q = 0; q < perSession; q++)
        {
            for (var s = 0; s < sessions; s++)
            {
                Assert.Equal(AppendStatus.Appended, store.Append(Header(s, q), Payload(s, q, size), out last));
            }
        }
        return last;
    }
}

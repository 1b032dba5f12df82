using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Appliance.Protocols.Postgres;

namespace Appliance.Tests.Masking;

/// <summary>
/// The extended protocol at the message level, as drivers other than libpq and Npgsql may send it: rows of a
/// portal that was never described, of a statement described long before, and pipelined cycles.
/// </summary>
public sealed class PgMaskingProtocolTests(MaskingFixture fx) : IClassFixture<MaskingFixture>
{
    private sealed class RawClient(Socket socket) : IAsyncDisposable
    {
        private readonly NetworkStream _stream = new(socket, ownsSocket: true);
        private readonly ArrayBufferWriter<byte> _out = new();

        public IBufferWriter<byte> Writer => _out;

        public async Task SendAsync()
        {
            await _stream.WriteAsync(_out.WrittenMemory);
            _out.ResetWrittenCount();
        }

        public async Task<(byte Type, byte[] Payload)> ReadAsync()
        {
            var header = new byte[5];
            await _stream.ReadExactlyAsync(header);
            var payload = new byte[BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(1)) - 4];
            await _stream.ReadExactlyAsync(payload);
            return (header[0], payload);
        }

        /// <summary>Every message up to and including the next ReadyForQuery.</summary>
        public async Task<List<(byte Type, byte[] Payload)>> ReadCycleAsync()
        {
            var messages = new List<(byte, byte[])>();
            while (true)
            {
                var m = await ReadAsync();
                messages.Add(m);
                if (m.Type == PgBackend.ReadyForQuery) return messages;
            }
        }

        public ValueTask DisposeAsync() => _stream.DisposeAsync();
    }

    private async Task<RawClient> ConnectAsync()
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", fx.Env.GatewayPort);
        var client = new RawClient(socket);
        PgMessageWriter.WriteStartupMessage(client.Writer, [new("user", "ci"), new("database", "maskdb")]);
        await client.SendAsync();
        Assert.Equal(PgBackend.Authentication, (await client.ReadAsync()).Type);
        var token = Encoding.UTF8.GetBytes(fx.Env.Token("test") + "\0");
        PgMessageWriter.WritePasswordMessage(client.Writer, token);
        await client.SendAsync();
        var login = await client.ReadCycleAsync();
        Assert.DoesNotContain(login, m => m.Type == PgBackend.ErrorResponse);
        return client;
    }

    private static void Bind(IBufferWriter<byte> w, string portal, string statement, short resultFormat)
    {
        var body = new List<byte>();
        body.AddRange(Encoding.UTF8.GetBytes(portal + "\0" + statement + "\0"));
        body.AddRange([0, 0, 0, 0, 0, 1, 0, (byte)resultFormat]);
        Write(w, PgFrontend.Bind, [.. body]);
    }

    private static void Execute(IBufferWriter<byte> w, string portal) => Write(w, PgFrontend.Execute, [.. Encoding.UTF8.GetBytes(portal + "\0"), 0, 0, 0, 0]);

    private static void Sync(IBufferWriter<byte> w) => Write(w, PgFrontend.Sync, []);

    private static void Write(IBufferWriter<byte> w, byte type, byte[] body)
    {
        var span = w.GetSpan(5 + body.Length);
        span[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], 4 + body.Length);
        body.CopyTo(span[5..]);
        w.Advance(5 + body.Length);
    }

    /// <summary>The values of a DataRow as strings (text and binary text types are both UTF-8).</summary>
    private static string[] Values(byte[] row)
    {
        int count = BinaryPrimitives.ReadInt16BigEndian(row);
        var values = new string[count];
        int pos = 2;
        for (int i = 0; i < count; i++)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(row.AsSpan(pos));
            pos += 4;
            values[i] = length < 0 ? "NULL" : Encoding.UTF8.GetString(row, pos, length);
            pos += Math.Max(length, 0);
        }
        return values;
    }

    [Theory]
    [InlineData((short)0)]
    [InlineData((short)1)]
    public async Task Execute_OfAPortalNeverDescribed_IsMasked_AndTheGatewaysOwnDescribeIsNotSeen(short format)
    {
        await using var client = await ConnectAsync();
        PgMessageWriter.WriteParse(client.Writer, "s1", "select name, email, card_number from customers where id = 4");
        Bind(client.Writer, "p1", "s1", format);
        Execute(client.Writer, "p1");
        Sync(client.Writer);
        await client.SendAsync();
        var cycle = await client.ReadCycleAsync();
        Assert.Equal([PgBackend.ParseComplete, PgBackend.BindComplete, PgBackend.DataRow, PgBackend.CommandComplete, PgBackend.ReadyForQuery], cycle.Select(m => m.Type));
        var values = Values(cycle[2].Payload);
        Assert.Equal("Sentinel Person", values[0]);
        Assert.Matches("^[0-9a-f]{16}$", values[1]);
        Assert.Equal("************1234", values[2]);
    }

    [Fact]
    public async Task Statement_DescribedInAnEarlierCycle_ThenPipelinedExecutes_AreMasked()
    {
        await using var client = await ConnectAsync();
        PgMessageWriter.WriteParse(client.Writer, "s2", "select email from customers where id = 4");
        PgMessageWriter.WriteDescribe(client.Writer, (byte)'S', "s2"u8);
        Sync(client.Writer);
        await client.SendAsync();
        var described = await client.ReadCycleAsync();
        Assert.Contains(described, m => m.Type == PgBackend.RowDescription);

        // Three cycles in one write: a binary portal, an error that skips to Sync, and a text portal.
        Bind(client.Writer, "", "s2", 1);
        Execute(client.Writer, "");
        Sync(client.Writer);
        PgMessageWriter.WriteParse(client.Writer, "", "select email::int from customers where id = 4");
        Bind(client.Writer, "", "", 0);
        Execute(client.Writer, "");
        Sync(client.Writer);
        Bind(client.Writer, "p3", "s2", 0);
        Execute(client.Writer, "p3");
        Sync(client.Writer);
        await client.SendAsync();

        var binary = await client.ReadCycleAsync();
        var failed = await client.ReadCycleAsync();
        var text = await client.ReadCycleAsync();
        string hash = Values(binary.Single(m => m.Type == PgBackend.DataRow).Payload)[0];
        Assert.Matches("^[0-9a-f]{16}$", hash);
        Assert.Equal(hash, Values(text.Single(m => m.Type == PgBackend.DataRow).Payload)[0]);
        var error = failed.Single(m => m.Type == PgBackend.ErrorResponse);
        Assert.DoesNotContain("sentinel", Encoding.UTF8.GetString(error.Payload));
    }
}

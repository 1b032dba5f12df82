using System.Buffers;
using System.Buffers.Binary;
using System.Net.Sockets;
using Appliance.Net;
using Appliance.Postgres;
using Appliance.Protocols.Postgres;
using Appliance.Tests.Net;

namespace Appliance.Tests.Postgres;

/// <summary>
/// One direction of the relay over real loopback sockets on the epoll transport: messages are relayed on the
/// loop thread while they fit, and by the pump's own loop when a write has to wait or the inspector stops.
/// </summary>
public sealed class PgRelayPumpTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);

    /// <summary>Drops 'D' messages, replaces 'R' messages with an empty 'r', stops after 'X', fails on 'F'.</summary>
    private readonly struct Rewriter : IPgFrameInspector
    {
        public bool NeedsWhole(byte type) => true;

        public PgFrameAction Inspect(in PgFrame frame) => frame.Type switch
        {
            (byte)'D' => PgFrameAction.Drop,
            (byte)'R' => PgFrameAction.Replace,
            (byte)'X' => PgFrameAction.ForwardAndStop,
            (byte)'F' => PgFrameAction.Fail,
            _ => PgFrameAction.Forward,
        };

        public void WriteReplacement(in PgFrame frame, IBufferWriter<byte> output) => output.Write(Message((byte)'r', 0, 0));
    }

    private static byte[] Message(byte type, int payload, int seed)
    {
        var bytes = new byte[5 + payload];
        bytes[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), payload + 4);
        for (int i = 5; i < bytes.Length; i++) bytes[i] = (byte)(seed + i);
        return bytes;
    }

    private static (EpollSocketStream Stream, Socket Peer) Pair() => LoopbackSockets.EpollAndPeer();

    /// <summary>
    /// A mix of messages, sent in pieces that split them anywhere; what arrives is the stream with 'D' dropped and
    /// 'R' replaced. Set <paramref name="readLate"/> and the receiver reads only once all is sent, so the relay's
    /// writes fill the socket and wait.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Run_ManyMessages_ArriveTransformedAndInOrder(bool readLate)
    {
        var random = new Random(7);
        var sent = new MemoryStream();
        var expected = new MemoryStream();
        for (int i = 0; i < 3000; i++)
        {
            byte type = (byte)"QQQDRB"[random.Next(6)];
            var message = Message(type, type == 'B' ? random.Next(1000, 20_000) : random.Next(0, 300), i);
            sent.Write(message);
            expected.Write(type switch { (byte)'D' => [], (byte)'R' => Message((byte)'r', 0, 0), _ => message });
        }
        sent.Write(Message((byte)'X', 0, 0));
        expected.Write(Message((byte)'X', 0, 0));
        var input = sent.ToArray();

        var (source, sender) = Pair();
        var (destination, receiver) = Pair();
        using (source)
        using (sender)
        using (destination)
        using (receiver)
        using (var pump = new PgRelayPump(ReadOnlySequence<byte>.Empty))
        {
            var run = pump.RunAsync(source, destination, new Rewriter(), 1 << 20);
            var received = new MemoryStream();
            var receiving = readLate ? null : Task.Run(() => ReceiveAll(receiver, received, expected.Length));
            for (int offset = 0; offset < input.Length;)
            {
                int piece = Math.Min(random.Next(1, 9000), input.Length - offset);
                await sender.SendAsync(input.AsMemory(offset, piece));
                offset += piece;
            }
            receiving ??= Task.Run(() => ReceiveAll(receiver, received, expected.Length));
            await receiving.WaitAsync(s_timeout);
            Assert.Null(await run.WaitAsync(s_timeout));
            Assert.True(expected.ToArray().AsSpan().SequenceEqual(received.ToArray()));
            Assert.True(pump.AtMessageBoundary);
        }
    }

    [Fact]
    public async Task Run_MessageTheInspectorFails_ReturnsTheErrorAfterWhatCameBefore()
    {
        var (source, sender) = Pair();
        var (destination, receiver) = Pair();
        using (source)
        using (sender)
        using (destination)
        using (receiver)
        using (var pump = new PgRelayPump(ReadOnlySequence<byte>.Empty))
        {
            var run = pump.RunAsync(source, destination, new Rewriter(), 1 << 20);
            var before = Message((byte)'Q', 10, 1);
            sender.Send(before);
            var received = new MemoryStream();
            await Task.Run(() => ReceiveAll(receiver, received, before.Length)).WaitAsync(s_timeout);
            sender.Send(Message((byte)'F', 3, 2));
            Assert.Equal("unexpected message type 'F'", await run.WaitAsync(s_timeout));
            Assert.Equal(before, received.ToArray());
        }
    }

    [Fact]
    public async Task Run_SourceEndsMidMessage_ReportsIt()
    {
        var (source, sender) = Pair();
        var (destination, receiver) = Pair();
        using (source)
        using (destination)
        using (receiver)
        using (var pump = new PgRelayPump(ReadOnlySequence<byte>.Empty))
        {
            var run = pump.RunAsync(source, destination, new Rewriter(), 1 << 20);
            sender.Send(Message((byte)'Q', 10, 1).AsSpan(0, 8));
            sender.Shutdown(SocketShutdown.Send);
            Assert.Equal("connection closed in the middle of a message", await run.WaitAsync(s_timeout));
            sender.Dispose();
        }
    }

    private static void ReceiveAll(Socket socket, MemoryStream into, long count)
    {
        var buffer = new byte[64 * 1024];
        while (into.Length < count)
        {
            int n = socket.Receive(buffer);
            if (n == 0)
            {
                break;
            }
            into.Write(buffer, 0, n);
        }
    }
}

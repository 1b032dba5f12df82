using System.Net.Sockets;
using System.Threading.Channels;
using Appliance.Net;

namespace Appliance.Tests.Net;

/// <summary><see cref="EpollSocketStream.WaitReadableAsync"/>: data handled on the loop thread while the wait goes on.</summary>
public sealed class EpollReadableTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    private static (EpollSocketStream Stream, Socket Peer) Pair() => LoopbackSockets.EpollAndPeer();

    /// <summary>Reads in small pieces until the socket would block and reports each batch; gives up on a 'q', throws on an 'x'.</summary>
    private sealed class Collector(EpollSocketStream stream, int pieceSize = 3) : IEpollReadable
    {
        public Channel<byte[]> Batches { get; } = Channel.CreateUnbounded<byte[]>();

        public int Calls { get; private set; }

        public bool OnReadable()
        {
            Calls++;
            var batch = new List<byte>();
            var piece = new byte[pieceSize];
            while (true)
            {
                int n = stream.ReceiveNow(piece);
                if (n < 0)
                {
                    Batches.Writer.TryWrite([.. batch]);
                    return true;
                }
                if (n == 0)
                {
                    Batches.Writer.TryWrite([.. batch]);
                    return false;
                }
                batch.AddRange(piece.AsSpan(0, n));
                if (piece.AsSpan(0, n).Contains((byte)'x'))
                {
                    throw new InvalidOperationException("handler failed");
                }
                if (piece.AsSpan(0, n).Contains((byte)'q'))
                {
                    Batches.Writer.TryWrite([.. batch]);
                    return false;
                }
            }
        }
    }

    [Fact]
    public async Task WaitReadable_DataArrives_HandlerTakesEachSendWhileTheWaitGoesOn()
    {
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            var handler = new Collector(stream);
            var wait = stream.WaitReadableAsync(handler);
            Assert.False(wait.IsCompleted);
            foreach (var text in new[] { "hello", "a", "longer than one piece" })
            {
                peer.Send(System.Text.Encoding.ASCII.GetBytes(text));
                var batch = await handler.Batches.Reader.ReadAsync().AsTask().WaitAsync(s_timeout);
                Assert.Equal(text, System.Text.Encoding.ASCII.GetString(batch));
                Assert.False(wait.IsCompleted);
            }
            peer.Send("bye q"u8);
            Assert.Equal(0, await wait.AsTask().WaitAsync(s_timeout));
            Assert.Equal("bye q", System.Text.Encoding.ASCII.GetString(await handler.Batches.Reader.ReadAsync()));
            Assert.Equal(4, handler.Calls);

            // The stream reads as usual afterwards.
            peer.Send("after"u8);
            var buffer = new byte[5];
            await stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(s_timeout);
            Assert.Equal("after"u8.ToArray(), buffer);
        }
    }

    [Fact]
    public async Task WaitReadable_HandlerThrows_TheWaitFailsWithItsException()
    {
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            var wait = stream.WaitReadableAsync(new Collector(stream));
            peer.Send("x"u8);
            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => wait.AsTask().WaitAsync(s_timeout));
            Assert.Equal("handler failed", error.Message);
        }
    }

    [Fact]
    public async Task WaitReadable_DataAlreadyWaiting_CompletesAtOnceWithoutTheHandler()
    {
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            peer.Send("early"u8);
            var buffer = new byte[1];
            await stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(s_timeout);
            // The last read filled its buffer, so more may be waiting: the wait leaves it to the caller.
            var handler = new Collector(stream);
            Assert.Equal(0, await stream.WaitReadableAsync(handler).AsTask().WaitAsync(s_timeout));
            Assert.Equal(0, handler.Calls);
            var rest = new byte[4];
            await stream.ReadExactlyAsync(rest).AsTask().WaitAsync(s_timeout);
            Assert.Equal("arly"u8.ToArray(), rest);
        }
    }

    [Fact]
    public async Task WaitReadable_PeerCloses_CompletesAndTheReadSeesTheEnd()
    {
        var (stream, peer) = Pair();
        using (stream)
        {
            var handler = new Collector(stream);
            var wait = stream.WaitReadableAsync(handler);
            Assert.False(wait.IsCompleted);
            peer.Send("last"u8);
            Assert.Equal("last", System.Text.Encoding.ASCII.GetString(await handler.Batches.Reader.ReadAsync().AsTask().WaitAsync(s_timeout)));
            peer.Dispose();
            Assert.Equal(0, await wait.AsTask().WaitAsync(s_timeout));
            Assert.Equal(0, await stream.ReadAsync(new byte[8]).AsTask().WaitAsync(s_timeout));
        }
    }

    [Fact]
    public async Task WaitReadable_StreamDisposed_TheWaitFails()
    {
        var (stream, peer) = Pair();
        using (peer)
        {
            var wait = stream.WaitReadableAsync(new Collector(stream));
            stream.Dispose();
            await Assert.ThrowsAsync<IOException>(() => wait.AsTask().WaitAsync(s_timeout));
        }
    }
}

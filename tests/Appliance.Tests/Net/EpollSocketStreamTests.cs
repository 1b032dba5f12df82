using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.Net;

namespace Appliance.Tests.Net;

/// <summary>The epoll transport against real loopback sockets.</summary>
public sealed class EpollSocketStreamTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    private static (EpollSocketStream Stream, Socket Peer) Pair() => LoopbackSockets.EpollAndPeer();

    private static (EpollSocketStream A, EpollSocketStream B) EpollPair()
    {
        var (a, peer) = Pair();
        return (a, new EpollSocketStream(peer, EpollLoop.Next(), ownsSocket: true));
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        await stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(s_timeout);
        return buffer;
    }

    /// <summary>A zero-byte read waits until the peer sends <paramref name="next"/>, which is then there to read.</summary>
    private static async Task AssertZeroByteReadWaitsFor(EpollSocketStream stream, Socket peer, byte next)
    {
        var wait = stream.ReadAsync(Memory<byte>.Empty);
        Assert.False(wait.IsCompleted);
        peer.Send([next]);
        Assert.Equal(0, await wait.AsTask().WaitAsync(s_timeout));
        Assert.Equal([next], await ReadExactlyAsync(stream, 1));
    }

    [Fact]
    public async Task ReadAsync_DataSent_ReturnsIt()
    {
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            peer.Send("hello"u8);
            Assert.Equal("hello"u8.ToArray(), await ReadExactlyAsync(stream, 5));
        }
    }

    [Fact]
    public async Task ReadAsync_BeforeDataArrives_CompletesWhenItDoes()
    {
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            var buffer = new byte[16];
            var read = stream.ReadAsync(buffer);
            Assert.False(read.IsCompleted);
            peer.Send("late"u8);
            Assert.Equal(4, await read.AsTask().WaitAsync(s_timeout));
            Assert.Equal("late"u8.ToArray(), buffer[..4]);
        }
    }

    [Fact]
    public async Task WriteAsync_Data_PeerReceivesIt()
    {
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            await stream.WriteAsync("world"u8.ToArray());
            var buffer = new byte[5];
            int got = 0;
            while (got < 5)
            {
                got += peer.Receive(buffer.AsSpan(got));
            }
            Assert.Equal("world"u8.ToArray(), buffer);
        }
    }

    [Fact]
    public async Task ReadAsync_ZeroBytesAfterShortRead_WaitsForDataThenCompletes()
    {
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            peer.Send("a"u8);
            Assert.Equal(1, await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(s_timeout));
            // The short read left the socket known drained: the zero-byte read must wait for the next edge.
            await AssertZeroByteReadWaitsFor(stream, peer, (byte)'b');
        }
    }

    [Fact]
    public async Task ReadAsync_ZeroBytesOnFreshSocket_WaitsForData()
    {
        // Nothing read yet, so the socket is not known drained: the zero-byte read must still wait (a held
        // session races it against its release), not return at once.
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            await AssertZeroByteReadWaitsFor(stream, peer, (byte)'c');
        }
    }

    [Fact]
    public async Task ReadAsync_ZeroBytesAfterFullRead_WaitsOnlyIfNothingIsLeft()
    {
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            peer.Send("abcd"u8);
            Assert.Equal("ab"u8.ToArray(), await ReadExactlyAsync(stream, 2));
            // "cd" is still there: ready at once.
            Assert.Equal(0, await stream.ReadAsync(Memory<byte>.Empty).AsTask().WaitAsync(s_timeout));
            Assert.Equal("cd"u8.ToArray(), await ReadExactlyAsync(stream, 2));
            await AssertZeroByteReadWaitsFor(stream, peer, (byte)'e');
        }
    }

    [Fact]
    public async Task ReadAsync_PeerCloses_ReturnsZero()
    {
        var (stream, peer) = Pair();
        using (stream)
        {
            peer.Send("x"u8);
            Assert.Equal("x"u8.ToArray(), await ReadExactlyAsync(stream, 1));
            var read = stream.ReadAsync(new byte[8]);
            peer.Dispose();
            Assert.Equal(0, await read.AsTask().WaitAsync(s_timeout));
        }
    }

    [Fact]
    public async Task ReadAsync_DataThenClose_ReturnsDataThenZero()
    {
        var (stream, peer) = Pair();
        using (stream)
        {
            peer.Send("tail"u8);
            peer.Shutdown(SocketShutdown.Send);
            peer.Dispose();
            var buffer = new byte[64];
            int got = 0, n;
            while ((n = await stream.ReadAsync(buffer.AsMemory(got)).AsTask().WaitAsync(s_timeout)) > 0)
            {
                got += n;
            }
            Assert.Equal("tail"u8.ToArray(), buffer[..got]);
        }
    }

    [Fact]
    public async Task ReadAsync_PendingWhenSocketShutDown_ReturnsZero()
    {
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            var read = stream.ReadAsync(new byte[8]);
            Assert.False(read.IsCompleted);
            stream.Socket.Shutdown(SocketShutdown.Receive);
            Assert.Equal(0, await read.AsTask().WaitAsync(s_timeout));
        }
    }

    [Fact]
    public async Task ReadAsync_ZeroBytePendingWhenSocketShutDown_Completes()
    {
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            peer.Send("a"u8);
            Assert.Equal(1, await stream.ReadAsync(new byte[16]).AsTask().WaitAsync(s_timeout));
            var wait = stream.ReadAsync(Memory<byte>.Empty);
            Assert.False(wait.IsCompleted);
            stream.Socket.Shutdown(SocketShutdown.Both);
            Assert.Equal(0, await wait.AsTask().WaitAsync(s_timeout));
            Assert.Equal(0, await stream.ReadAsync(new byte[4]).AsTask().WaitAsync(s_timeout));
        }
    }

    [Fact]
    public async Task ReadAsync_Canceled_ThrowsAndStreamStaysUsable()
    {
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            using var cts = new CancellationTokenSource();
            var read = stream.ReadAsync(new byte[8], cts.Token);
            Assert.False(read.IsCompleted);
            cts.Cancel();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read.AsTask().WaitAsync(s_timeout));
            peer.Send("ok"u8);
            Assert.Equal("ok"u8.ToArray(), await ReadExactlyAsync(stream, 2));
        }
    }

    [Fact]
    public async Task ReadAsync_StaleCancellation_DoesNotCancelALaterRead()
    {
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            using var cts = new CancellationTokenSource();
            var first = stream.ReadAsync(new byte[8], cts.Token);
            peer.Send("1"u8);
            Assert.Equal(1, await first.AsTask().WaitAsync(s_timeout));
            var second = stream.ReadAsync(new byte[8]);
            cts.Cancel();
            peer.Send("2"u8);
            Assert.Equal(1, await second.AsTask().WaitAsync(s_timeout));
        }
    }

    [Fact]
    public async Task WriteAsync_LargerThanSocketBuffers_CompletesOnceSlowReaderTakesAll()
    {
        var (stream, peer) = Pair();
        using (stream)
        using (peer)
        {
            var payload = RandomNumberGenerator.GetBytes(16 * 1024 * 1024);
            var write = stream.WriteAsync(payload).AsTask();
            // The kernel cannot take 16 MB while nobody reads: the write has to wait for room.
            Assert.False(write.IsCompleted);
            var received = new byte[payload.Length];
            int got = 0;
            var reader = Task.Run(() =>
            {
                while (got < received.Length)
                {
                    got += peer.Receive(received.AsSpan(got, Math.Min(1000, received.Length - got)));
                }
            });
            try
            {
                await Task.WhenAll(reader, write).WaitAsync(s_timeout);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"stalled after {got} of {received.Length} bytes; write completed: {write.IsCompleted}");
            }
            Assert.True(payload.AsSpan().SequenceEqual(received));
        }
    }

    [Fact]
    public async Task WriteAsync_PeerGone_ThrowsIOException()
    {
        var (stream, peer) = Pair();
        using (stream)
        {
            peer.LingerState = new LingerOption(true, 0);
            peer.Dispose();
            var chunk = new byte[64 * 1024];
            var error = await Assert.ThrowsAsync<IOException>(async () =>
            {
                for (int i = 0; i < 1000; i++)
                {
                    await stream.WriteAsync(chunk).AsTask().WaitAsync(s_timeout);
                }
            });
            Assert.IsType<SocketException>(error.InnerException);
        }
    }

    [Fact]
    public async Task ReadAndWrite_Concurrently_BothDirectionsCarryEverything()
    {
        var (a, b) = EpollPair();
        using (a)
        using (b)
        {
            var fromA = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
            var fromB = RandomNumberGenerator.GetBytes(4 * 1024 * 1024);
            var tasks = new[]
            {
                a.WriteAsync(fromA).AsTask(),
                b.WriteAsync(fromB).AsTask(),
            };
            var readA = ReadExactlyAsync(a, fromB.Length);
            var readB = ReadExactlyAsync(b, fromA.Length);
            await Task.WhenAll(tasks).WaitAsync(s_timeout);
            var gotA = await readA;
            var gotB = await readB;
            Assert.True(fromB.AsSpan().SequenceEqual(gotA));
            Assert.True(fromA.AsSpan().SequenceEqual(gotB));
        }
    }

    [Fact]
    public async Task Dispose_WithReadPending_FailsTheRead()
    {
        var (stream, peer) = Pair();
        using (peer)
        {
            var read = stream.ReadAsync(new byte[8]);
            stream.Dispose();
            await Assert.ThrowsAsync<IOException>(() => read.AsTask().WaitAsync(s_timeout));
            Assert.Throws<ObjectDisposedException>(() => stream.ReadAsync(new byte[8]));
        }
    }

    [Fact]
    public async Task PingPong_ManySmallMessagesOnManySockets_NoneLost()
    {
        // Every exchange is a park on one side and an edge on the other, on threads that race: a lost
        // wake-up hangs a pair and fails the timeout.
        const int Pairs = 32, Rounds = 2000;
        var pairs = Enumerable.Range(0, Pairs).Select(_ => EpollPair()).ToArray();
        try
        {
            await Task.WhenAll(pairs.Select(p => Task.Run(() => PingPongAsync(p.A, p.B, Rounds)))).WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            foreach (var (a, b) in pairs)
            {
                a.Dispose();
                b.Dispose();
            }
        }
    }

    private static async Task PingPongAsync(EpollSocketStream a, EpollSocketStream b, int rounds)
    {
        var echo = Task.Run(async () =>
        {
            var buffer = new byte[8];
            while (true)
            {
                // As the relay does: a zero-byte read, then the read.
                _ = await b.ReadAsync(Memory<byte>.Empty);
                int n = await b.ReadAsync(buffer);
                if (n == 0)
                {
                    return;
                }
                await b.WriteAsync(buffer.AsMemory(0, n));
            }
        });
        var message = new byte[4];
        var reply = new byte[4];
        for (int i = 0; i < rounds; i++)
        {
            BitConverter.TryWriteBytes(message, i);
            await a.WriteAsync(message);
            int got = 0;
            while (got < 4)
            {
                _ = await a.ReadAsync(Memory<byte>.Empty);
                got += await a.ReadAsync(reply.AsMemory(got));
            }
            Assert.Equal(i, BitConverter.ToInt32(reply));
        }
        a.Socket.Shutdown(SocketShutdown.Send);
        await echo;
    }

    [Fact]
    public async Task ConnectAsync_Listening_ConnectsWithRemoteEndPoint()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        int port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var (socket, stream) = await EpollTransport.ConnectAsync("127.0.0.1", port, CancellationToken.None).AsTask().WaitAsync(s_timeout);
        await using (stream)
        {
            using var accepted = listener.Accept();
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), socket.RemoteEndPoint);
            accepted.Send("hi"u8);
            Assert.Equal("hi"u8.ToArray(), await ReadExactlyAsync(stream, 2));
        }
    }

    [Fact]
    public async Task ConnectAsync_NothingListening_ThrowsConnectionRefused()
    {
        int port;
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            port = ((IPEndPoint)probe.LocalEndPoint!).Port;
        }
        var error = await Assert.ThrowsAsync<SocketException>(() => EpollTransport.ConnectAsync("127.0.0.1", port, CancellationToken.None).AsTask().WaitAsync(s_timeout));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
    }

    [Fact]
    public async Task ConnectAsync_Canceled_ThrowsOperationCanceled()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => EpollTransport.ConnectAsync("127.0.0.1", ((IPEndPoint)listener.LocalEndPoint!).Port, new CancellationToken(true)).AsTask().WaitAsync(s_timeout));
    }

    [Fact]
    public async Task SslStream_OverEpollStreams_HandshakesAndCarriesData()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        using var ephemeral = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        using var certificate = X509CertificateLoader.LoadPkcs12(ephemeral.Export(X509ContentType.Pkcs12), null);
        var (a, b) = EpollPair();
        await using var server = new SslStream(a, leaveInnerStreamOpen: false);
        await using var client = new SslStream(b, leaveInnerStreamOpen: false, static (_, _, _, _) => true);
        await Task.WhenAll(
            server.AuthenticateAsServerAsync(new SslServerAuthenticationOptions { ServerCertificate = certificate }),
            client.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost" })).WaitAsync(s_timeout);
        var payload = RandomNumberGenerator.GetBytes(300_000);
        var write = client.WriteAsync(payload).AsTask();
        var received = await ReadExactlyAsync(server, payload.Length);
        Assert.True(payload.AsSpan().SequenceEqual(received));
        await write;
        await server.WriteAsync("done"u8.ToArray());
        Assert.Equal("done"u8.ToArray(), await ReadExactlyAsync(client, 4));
    }
}

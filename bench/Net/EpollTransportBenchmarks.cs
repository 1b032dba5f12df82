using System.Net;
using System.Net.Sockets;
using Appliance.Net;
using BenchmarkDotNet.Attributes;

namespace Appliance.Bench.Net;

/// <summary>
/// The epoll transport (<see cref="EpollSocketStream"/>) on a loopback pair, used as the relay uses it: wait for
/// data with a zero-byte read, read it, answer. Each operation is one round trip of a 64-byte message; times are
/// mostly the kernel's loopback, the point is the allocations: a round trip must allocate nothing (the one task
/// per invocation is spread over <see cref="RoundTrips"/> operations).
/// </summary>
[MemoryDiagnoser]
public class EpollTransportBenchmarks
{
    private const int RoundTrips = 1000;
    private const int MessageLength = 64;

    private EpollSocketStream _a = null!;
    private EpollSocketStream _b = null!;
    private readonly byte[] _message = new byte[MessageLength];
    private readonly byte[] _bufferA = new byte[8192];
    private readonly byte[] _bufferB = new byte[8192];

    [GlobalSetup]
    public void Setup()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var connecting = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        connecting.Connect(listener.LocalEndPoint!);
        var accepted = listener.Accept();
        accepted.NoDelay = true;
        _a = new EpollSocketStream(connecting, EpollLoop.Next(), ownsSocket: true);
        _b = new EpollSocketStream(accepted, EpollLoop.Next(), ownsSocket: true);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
    }

    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public async Task RoundTrip_ZeroByteReadThenRead()
    {
        for (int i = 0; i < RoundTrips; i++)
        {
            await _a.WriteAsync(_message);
            await ReceiveAsync(_b, _bufferB);
            await _b.WriteAsync(_message);
            await ReceiveAsync(_a, _bufferA);
        }
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    private static async ValueTask ReceiveAsync(EpollSocketStream stream, byte[] buffer)
    {
        int received = 0;
        while (received < MessageLength)
        {
            _ = await stream.ReadAsync(Memory<byte>.Empty);
            int n = await stream.ReadAsync(buffer.AsMemory(received));
            if (n == 0)
            {
                throw new InvalidOperationException("the peer closed the connection");
            }
            received += n;
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Appliance.Hosting;

namespace Appliance.Net;

/// <summary>
/// Chooses the transport for PostgreSQL sessions: <see cref="EpollSocketStream"/> on Linux, .NET's
/// <see cref="NetworkStream"/> elsewhere or when APPLIANCE_SOCKET_ENGINE=dotnet (for comparison runs).
/// </summary>
internal static class EpollTransport
{
    /// <summary>Where the epoll transport can run.</summary>
    public static bool IsSupported { get; } = OperatingSystem.IsLinux()
        && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>Whether sessions use it.</summary>
    public static bool Enabled { get; } = IsSupported
        && !string.Equals(Environment.GetEnvironmentVariable("APPLIANCE_SOCKET_ENGINE"), "dotnet", StringComparison.OrdinalIgnoreCase);

    /// <summary>Loop threads: as many as .NET's own socket engine is given.</summary>
    public static int LoopCount => SocketEngineDefaults.EngineThreadCount;

    /// <summary>A stream over a connected socket that the stream then owns.</summary>
    public static Stream CreateStream(Socket socket)
        => Enabled ? new EpollSocketStream(socket, EpollLoop.Next(), ownsSocket: true) : new NetworkStream(socket, ownsSocket: true);

    /// <summary>
    /// Connects to the first address of <paramref name="host"/> that answers, without .NET's socket engine when
    /// enabled (a socket in two epoll sets would wake both). Failures are <see cref="SocketException"/>s, as from
    /// <see cref="Socket.ConnectAsync(string, int, CancellationToken)"/>: the last address's error.
    /// </summary>
    public static async ValueTask<(Socket Socket, Stream Stream)> ConnectAsync(string host, int port, CancellationToken ct)
    {
        if (!Enabled)
        {
            var plain = new Socket(SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await plain.ConnectAsync(host, port, ct);
                return (plain, new NetworkStream(plain, ownsSocket: true));
            }
            catch
            {
                plain.Dispose();
                throw;
            }
        }
        ct.ThrowIfCancellationRequested();
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, ct);
        if (addresses.Length == 0)
        {
            throw new SocketException((int)SocketError.HostNotFound);
        }
        for (int i = 0; ; i++)
        {
            try
            {
                return await ConnectAsync(new IPEndPoint(addresses[i], port), ct);
            }
            catch (SocketException) when (i + 1 < addresses.Length && !ct.IsCancellationRequested)
            {
                // Try the next address, as Socket.ConnectAsync does.
            }
        }
    }

    private static async ValueTask<(Socket, Stream)> ConnectAsync(IPEndPoint endPoint, CancellationToken ct)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        EpollSocketStream? stream = null;
        try
        {
            socket.Blocking = false;
            bool pending;
            try
            {
                socket.Connect(endPoint);
                pending = false;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
                pending = true;
            }
            stream = new EpollSocketStream(socket, EpollLoop.Next(), ownsSocket: true, connecting: pending);
            if (pending)
            {
                await stream.WaitConnectedAsync(ct);
            }
            return (socket, stream);
        }
        catch
        {
            if (stream is not null)
            {
                await stream.DisposeAsync();
            }
            socket.Dispose();
            throw;
        }
    }
}

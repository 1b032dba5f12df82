using System.Net;
using System.Net.Sockets;
using Appliance.Net;

namespace Appliance.Tests.Net;

internal static class LoopbackSockets
{
    /// <summary>A connected loopback pair: the epoll stream's socket and a plain blocking peer (no Nagle delay).</summary>
    public static (EpollSocketStream Stream, Socket Peer) EpollAndPeer()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var peer = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        peer.Connect(listener.LocalEndPoint!);
        return (new EpollSocketStream(listener.Accept(), EpollLoop.Next(), ownsSocket: true), peer);
    }
}

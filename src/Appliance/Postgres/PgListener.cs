using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace Appliance.Postgres;

/// <summary>Accepts connections on one address and runs a session for each.</summary>
internal sealed class PgListener(PgListenerContext context, SessionTracker sessions)
{
    private Socket? _socket;
    private Task? _acceptLoop;

    /// <summary>Binds now, so that readiness is reported only once every listener is bound.</summary>
    public void Start()
    {
        var socket = new Socket(context.EndPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (context.EndPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = context.EndPoint.Address.Equals(System.Net.IPAddress.IPv6Any);
            }
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(context.EndPoint);
            socket.Listen(4096);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        _socket = socket;
        context.Logger.LogInformation("PostgreSQL listener on {EndPoint} serving {Targets}", socket.LocalEndPoint, string.Join(", ", context.TargetsByDatabase.Keys));
        _acceptLoop = AcceptAsync(socket);
    }

    public System.Net.IPEndPoint? BoundEndPoint => _socket?.LocalEndPoint as System.Net.IPEndPoint;

    private async Task AcceptAsync(Socket listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptAsync();
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
            {
                return;
            }
            catch (SocketException e)
            {
                context.Logger.LogWarning("accept failed on {EndPoint}: {Error}", context.EndPoint, e.SocketErrorCode);
                continue;
            }
            if (!sessions.TryStart(id => new PgSession(context, client, id).RunAsync))
            {
                context.Logger.LogWarning("refusing a connection from {Client}: session limit reached", client.RemoteEndPoint);
                _ = RefuseAsync(client);
            }
        }
    }

    private static async Task RefuseAsync(Socket client)
    {
        await using var connection = new PgConnection(client, 1024);
        Appliance.Protocols.Postgres.PgMessageWriter.WriteError(connection.Writer, "FATAL", Appliance.Protocols.Postgres.PgSqlState.TooManyConnections, "the gateway has reached its session limit");
        try
        {
            await connection.Writer.FlushAsync();
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
        }
    }

    /// <summary>Stops accepting; open sessions carry on.</summary>
    public async Task StopAsync()
    {
        _socket?.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop;
        }
    }
}

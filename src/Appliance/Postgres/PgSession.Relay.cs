using System.Net.Sockets;
using Appliance.Protocols.Postgres;

namespace Appliance.Postgres;

internal sealed partial class PgSession
{
    /// <summary>Largest message accepted from the upstream: PostgreSQL's own 1 GB field limit plus framing.</summary>
    private const int MaxUpstreamMessage = 0x4000_1000;

    private bool _clientTerminated;

    /// <summary>
    /// Moves messages both ways until either side ends. Returns the FATAL to send the client, if any.
    /// </summary>
    private async Task<(string? State, string? Message)> RelayAsync(PgConnection upstream, CancellationToken abort)
    {
        using var fromClient = new PgRelayPump(_client.TakeBuffered());
        using var fromUpstream = new PgRelayPump(upstream.TakeBuffered());

        // Stopping shuts the sockets' receive side: pending reads return end-of-stream, and the client can
        // still be sent a final error.
        void Stop()
        {
            TryShutdown(_client.Socket, SocketShutdown.Receive);
            TryShutdown(upstream.Socket, SocketShutdown.Both);
            StopHolding();
        }
        using var onAbort = abort.UnsafeRegister(static state => ((Action)state!)(), (Action)Stop);

        // Before either pump starts: a statement held at once sends its NOTICE through it.
        _clientWriter = new PgClientWriter(_client.Stream);
        var clientToUpstream = fromClient.RunAsync(_client.Stream, upstream.Stream, new ClientInspector(this), _context.Limits.MaxClientMessageBytes);
        var upstreamToClient = fromUpstream.RunAsync(upstream.Stream, _client.Stream, new UpstreamInspector(this), MaxUpstreamMessage, _clientWriter);
        var first = await Task.WhenAny(clientToUpstream, upstreamToClient);
        if (first == clientToUpstream && clientToUpstream.IsCompletedSuccessfully && clientToUpstream.Result is null)
        {
            if (!_clientTerminated && fromClient.AtMessageBoundary)
            {
                // The client went away without Terminate; tell the server so it ends cleanly.
                await TryWriteTerminateAsync(upstream);
            }
            // The server closes its side after Terminate; let the last bytes through, briefly.
            await Task.WhenAny(upstreamToClient, Task.Delay(TimeSpan.FromSeconds(5), abort));
        }
        Stop();
        await Task.WhenAll(Observe(clientToUpstream), Observe(upstreamToClient));
        _bytesFromClient = fromClient.BytesForwarded;
        _bytesFromUpstream = fromUpstream.BytesForwarded;
        abort.ThrowIfCancellationRequested();
        if (clientToUpstream.IsCompletedSuccessfully && clientToUpstream.Result is { } clientError)
        {
            return (PgSqlState.ProtocolViolation, clientError);
        }
        if (upstreamToClient.IsCompletedSuccessfully && upstreamToClient.Result is { } upstreamError)
        {
            return (PgSqlState.ConnectionFailure, $"upstream of target '{_target!.Name}': {upstreamError}");
        }
        if (!fromUpstream.AtMessageBoundary)
        {
            // Never follow half a message with one of ours.
            return (null, null);
        }
        return upstreamToClient.IsCompleted && !_clientTerminated && !clientToUpstream.IsCompleted
            ? (PgSqlState.ConnectionFailure, $"upstream of target '{_target!.Name}' closed the connection")
            : (null, null);
    }

    private long _bytesFromClient;
    private long _bytesFromUpstream;

    private static async Task TryWriteTerminateAsync(PgConnection upstream)
    {
        try
        {
            await upstream.Stream.WriteAsync(new byte[] { PgFrontend.Terminate, 0, 0, 0, 4 });
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static void TryShutdown(Socket socket, SocketShutdown how)
    {
        try
        {
            socket.Shutdown(how);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
        }
    }

    private static async Task Observe(Task task)
    {
        try
        {
            await task;
        }
        catch (Exception)
        {
            // Either side failing ends the session; the other side's state decides what the client is told.
        }
    }
}

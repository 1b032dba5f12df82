using System.Buffers;
using System.IO.Pipelines;
using Appliance.Protocols.Postgres;

namespace Appliance.Postgres;

internal sealed partial class PgSession
{
    /// <summary>Largest message accepted from the upstream: PostgreSQL's own 1 GB field limit plus framing.</summary>
    private const int MaxUpstreamMessage = 0x4000_1000;

    private readonly PgFrameStream _fromClient = new();
    private readonly PgFrameStream _fromUpstream = new();
    private bool _clientTerminated;

    /// <summary>
    /// Moves messages both ways until either side ends. Returns the FATAL to send the client, if any.
    /// </summary>
    private async Task<(string? State, string? Message)> RelayAsync(PgConnection upstream, CancellationToken abort)
    {
        // The pumps read without a cancellation token (a registration per read costs on every message);
        // they are stopped by cancelling their pending reads instead.
        void Stop()
        {
            _client.Reader.CancelPendingRead();
            upstream.Reader.CancelPendingRead();
            _client.Writer.CancelPendingFlush();
            upstream.Writer.CancelPendingFlush();
        }
        using var onAbort = abort.UnsafeRegister(static state => ((Action)state!)(), (Action)Stop);
        var clientToUpstream = PumpClientAsync(upstream.Writer);
        var upstreamToClient = PumpUpstreamAsync(upstream.Reader);
        var first = await Task.WhenAny(clientToUpstream, upstreamToClient);
        if (first == clientToUpstream && _clientTerminated && clientToUpstream.IsCompletedSuccessfully)
        {
            // After Terminate the server closes its side; let the last bytes through, briefly.
            await Task.WhenAny(upstreamToClient, Task.Delay(TimeSpan.FromSeconds(5), abort));
        }
        Stop();
        await Task.WhenAll(Observe(clientToUpstream), Observe(upstreamToClient));
        abort.ThrowIfCancellationRequested();
        if (clientToUpstream.IsCompletedSuccessfully && clientToUpstream.Result is { } clientError)
        {
            return (PgSqlState.ProtocolViolation, clientError);
        }
        if (upstreamToClient.IsCompletedSuccessfully && upstreamToClient.Result is { } upstreamError)
        {
            return (PgSqlState.ConnectionFailure, $"upstream of target '{_target!.Name}': {upstreamError}");
        }
        return (null, null);
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

    /// <summary>Client to upstream. Returns a protocol error to report, or null at a normal end.</summary>
    private async Task<string?> PumpClientAsync(PipeWriter upstream)
    {
        var reader = _client.Reader;
        int max = _context.Limits.MaxClientMessageBytes;
        var inspector = new ClientInspector(this);
        while (true)
        {
            var result = await reader.ReadAsync();
            if (result.IsCanceled)
            {
                return null;
            }
            var buffer = result.Buffer;
            var status = _fromClient.Forward(ref inspector, buffer, upstream, max, out var consumed, out _, out var error);
            reader.AdvanceTo(consumed, buffer.End);
            if (upstream.UnflushedBytes > 0 && (await upstream.FlushAsync()) is { IsCompleted: true } or { IsCanceled: true })
            {
                return null;
            }
            if (status == OperationStatus.InvalidData)
            {
                return error;
            }
            if (_clientTerminated)
            {
                return null;
            }
            if (result.IsCompleted)
            {
                // The client went away without Terminate; tell the server so it ends cleanly.
                if (_fromClient.AtMessageBoundary)
                {
                    PgMessageWriter.WriteTerminate(upstream);
                    await upstream.FlushAsync();
                }
                return null;
            }
        }
    }

    /// <summary>Upstream to client. Returns an error to report, or null at a normal end.</summary>
    private async Task<string?> PumpUpstreamAsync(PipeReader reader)
    {
        var client = _client.Writer;
        var inspector = new UpstreamInspector(this);
        while (true)
        {
            var result = await reader.ReadAsync();
            if (result.IsCanceled)
            {
                return null;
            }
            var buffer = result.Buffer;
            var status = _fromUpstream.Forward(ref inspector, buffer, client, MaxUpstreamMessage, out var consumed, out _, out var error);
            reader.AdvanceTo(consumed, buffer.End);
            if (client.UnflushedBytes > 0 && (await client.FlushAsync()) is { IsCompleted: true } or { IsCanceled: true })
            {
                return null;
            }
            if (status == OperationStatus.InvalidData)
            {
                return error;
            }
            if (result.IsCompleted)
            {
                return _fromUpstream.AtMessageBoundary ? null : "closed the connection in the middle of a message";
            }
        }
    }
}

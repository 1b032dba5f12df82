namespace Appliance.Postgres;

/// <summary>
/// The client connection's write side, shared by the relay (upstream → client) and the session's own
/// messages (an approval NOTICE): one write at a time, and the session's messages only between whole
/// relayed messages, never inside one that is streaming through.
/// </summary>
internal sealed class PgClientWriter(Stream client)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly Queue<byte[]> _pending = new();
    private bool _atBoundary = true;

    /// <summary>Relays bytes from the upstream; <paramref name="atBoundary"/>: they end at a message boundary.</summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteRelayedAsync(ReadOnlyMemory<byte> bytes, bool atBoundary)
    {
        await _lock.WaitAsync();
        try
        {
            await client.WriteAsync(bytes);
            _atBoundary = atBoundary;
            while (atBoundary && _pending.TryDequeue(out var message))
            {
                await client.WriteAsync(message);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    /// <summary>Sends a whole message of the gateway's own now, or after the relayed message in flight.</summary>
    public async ValueTask InjectAsync(byte[] message)
    {
        await _lock.WaitAsync();
        try
        {
            if (_atBoundary)
            {
                await client.WriteAsync(message);
            }
            else
            {
                _pending.Enqueue(message);
            }
        }
        finally
        {
            _lock.Release();
        }
    }
}

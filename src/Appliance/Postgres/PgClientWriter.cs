using System.Runtime.CompilerServices;

namespace Appliance.Postgres;

/// <summary>
/// The client connection's write side, shared by the relay (upstream → client) and the session's own
/// messages (an approval NOTICE): one write at a time, and the session's messages only between whole
/// relayed messages, never inside one that is streaming through.
/// </summary>
/// <remarks>
/// Writers take turns. The relay writes after every read from the upstream, so taking a free turn is one
/// compare-and-swap; only a writer that finds the turn taken queues and waits (the session's own messages are
/// rare, so that is nearly always one of them). Messages the session injects while a relayed message is half
/// sent are kept in <see cref="_pending"/>, which only the turn's holder touches.
/// </remarks>
internal sealed class PgClientWriter(Stream client)
{
    private readonly object _sync = new();
    private readonly Queue<TaskCompletionSource> _waiters = new();
    private readonly Queue<byte[]> _pending = new();
    private int _busy;
    private int _waiting;
    private bool _atBoundary = true;

    /// <summary>Relays bytes from the upstream; <paramref name="atBoundary"/>: they end at a message boundary.</summary>
    public ValueTask WriteRelayedAsync(ReadOnlyMemory<byte> bytes, bool atBoundary)
    {
        if (!TryTakeTurn())
        {
            return WriteRelayedWhenFreeAsync(bytes, atBoundary);
        }
        var write = WriteHoldingTurn(bytes);
        if (!write.IsCompletedSuccessfully)
        {
            return FinishRelayedAsync(write, atBoundary);
        }
        write.GetAwaiter().GetResult();
        _atBoundary = atBoundary;
        if (atBoundary && _pending.Count > 0)
        {
            return FinishRelayedAsync(default, atBoundary);
        }
        PassTurn();
        return default;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask WriteRelayedWhenFreeAsync(ReadOnlyMemory<byte> bytes, bool atBoundary)
    {
        await TakeTurnAsync();
        await FinishRelayedAsync(WriteHoldingTurn(bytes), atBoundary);
    }

    /// <summary>Starts a write while holding the turn; a write that fails at once passes the turn on.</summary>
    private ValueTask WriteHoldingTurn(ReadOnlyMemory<byte> bytes)
    {
        try
        {
            return client.WriteAsync(bytes);
        }
        catch
        {
            PassTurn();
            throw;
        }
    }

    /// <summary>Holding the turn: completes the relayed write, sends what waited for the boundary, passes the turn.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FinishRelayedAsync(ValueTask write, bool atBoundary)
    {
        try
        {
            await write;
            _atBoundary = atBoundary;
            while (atBoundary && _pending.TryDequeue(out var message))
            {
                await client.WriteAsync(message);
            }
        }
        finally
        {
            PassTurn();
        }
    }

    /// <summary>Sends a whole message of the gateway's own now, or after the relayed message in flight.</summary>
    public async ValueTask InjectAsync(byte[] message)
    {
        await TakeTurnAsync();
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
            PassTurn();
        }
    }

    private bool TryTakeTurn() => Interlocked.CompareExchange(ref _busy, 1, 0) == 0;

    private ValueTask TakeTurnAsync()
    {
        if (TryTakeTurn())
        {
            return default;
        }
        TaskCompletionSource waiter;
        lock (_sync)
        {
            // Counted before trying again, so a holder passing the turn either sees the count or leaves the
            // turn free for this try.
            Interlocked.Increment(ref _waiting);
            if (TryTakeTurn())
            {
                Interlocked.Decrement(ref _waiting);
                return default;
            }
            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Enqueue(waiter);
        }
        return new ValueTask(waiter.Task);
    }

    /// <summary>Gives the turn to the first waiter, or frees it.</summary>
    private void PassTurn()
    {
        if (Volatile.Read(ref _waiting) == 0)
        {
            Interlocked.Exchange(ref _busy, 0);
            // A writer that counted itself in meanwhile may have queued: take the turn back to hand it over,
            // unless someone else took it (then that one hands it over when done).
            if (Volatile.Read(ref _waiting) == 0 || !TryTakeTurn())
            {
                return;
            }
        }
        TaskCompletionSource? next;
        lock (_sync)
        {
            // A waiter counts itself and queues under the lock, so one counted is queued by now.
            if (_waiters.TryDequeue(out next))
            {
                Interlocked.Decrement(ref _waiting);
            }
            else
            {
                Interlocked.Exchange(ref _busy, 0);
            }
        }
        next?.SetResult();
    }
}

namespace Appliance.Storage;

/// <summary>Callers waiting for an address to be acknowledged or made durable; only waiters pay for waiting.</summary>
internal sealed class AcknowledgementWaiters
{
    private readonly object _lock = new();
    private readonly List<Waiter> _waiting = [];
    private int _count;
    private Exception? _failure;

    /// <summary>True while someone waits (the writer then seals blocks without lingering).</summary>
    public bool HasWaiters => Volatile.Read(ref _count) > 0;

    /// <summary>
    /// A task completing when <paramref name="current"/> (re-read after registering) reaches <paramref name="address"/>.
    /// </summary>
    public Task Wait(long address, bool durable, Func<bool, long> current)
    {
        var waiter = new Waiter(address, durable, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_lock)
        {
            if (_failure is not null)
            {
                return Task.FromException(_failure);
            }
            _waiting.Add(waiter);
            Interlocked.Increment(ref _count);
        }
        // The writer publishes its addresses before it looks for waiters; looking again here closes the gap.
        Complete(current(false), current(true));
        return waiter.Completion.Task;
    }

    /// <summary>Completes every waiter whose address has been reached.</summary>
    public void Complete(long acknowledged, long durable)
    {
        if (Volatile.Read(ref _count) == 0)
        {
            return;
        }
        lock (_lock)
        {
            for (var i = _waiting.Count - 1; i >= 0; i--)
            {
                var w = _waiting[i];
                if (w.Address <= (w.Durable ? durable : acknowledged))
                {
                    _waiting.RemoveAt(i);
                    Interlocked.Decrement(ref _count);
                    w.Completion.TrySetResult();
                }
            }
        }
    }

    /// <summary>Fails every waiter, now and later.</summary>
    public void Fail(Exception failure)
    {
        lock (_lock)
        {
            _failure ??= failure;
            foreach (var w in _waiting)
            {
                w.Completion.TrySetException(_failure);
            }
            _waiting.Clear();
            Volatile.Write(ref _count, 0);
        }
    }

    private readonly record struct Waiter(long Address, bool Durable, TaskCompletionSource Completion);
}

using System.Collections.Concurrent;

namespace Appliance.Postgres;

/// <summary>Counts running sessions, bounds them, and drains them on shutdown.</summary>
internal sealed class SessionTracker(int maxSessions)
{
    private readonly ConcurrentDictionary<long, Task> _running = new();
    private readonly CancellationTokenSource _abort = new();
    private long _nextId;

    public int Count => _running.Count;

    /// <summary>Starts a session unless the limit is reached.</summary>
    public bool TryStart(Func<long, Func<CancellationToken, Task>> create)
    {
        if (_running.Count >= maxSessions || _abort.IsCancellationRequested)
        {
            return false;
        }
        long id = Interlocked.Increment(ref _nextId);
        var run = create(id);
        var task = Task.Run(() => run(_abort.Token));
        _running[id] = task;
        task.ContinueWith(static (_, state) =>
        {
            var (tracker, id) = ((SessionTracker, long))state!;
            tracker._running.TryRemove(id, out Task? _);
        }, (this, id), TaskScheduler.Default);
        return true;
    }

    /// <summary>Waits for sessions to end by themselves until the deadline, then ends the rest.</summary>
    public async Task DrainAsync(TimeSpan deadline)
    {
        var all = Task.WhenAll(_running.Values);
        if (await Task.WhenAny(all, Task.Delay(deadline)) != all)
        {
            await _abort.CancelAsync();
            await Task.WhenAny(Task.WhenAll(_running.Values), Task.Delay(TimeSpan.FromSeconds(5)));
        }
    }
}

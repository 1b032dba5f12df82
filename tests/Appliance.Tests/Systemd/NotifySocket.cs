using System.Net.Sockets;
using System.Text;

namespace Appliance.Tests.Systemd;

/// <summary>
/// The service manager's side of <c>sd_notify</c>: a Unix datagram socket whose path goes into
/// <c>NOTIFY_SOCKET</c>. Every datagram is kept with the time it arrived; tests wait for one that matches.
/// </summary>
internal sealed class NotifySocket : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly List<Notification> _received = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public NotifySocket(string path)
    {
        Path = path;
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _socket.Bind(new UnixDomainSocketEndPoint(path));
        // The service runs as its own user, like /run/systemd/notify it may send here.
        File.SetUnixFileMode(path, (UnixFileMode)0x1B6); // 0666
        _loop = Task.Run(ReceiveLoopAsync);
    }

    public string Path { get; }

    /// <summary>Runs on the receive loop before a datagram is made visible to waiters (and before the next is read).</summary>
    public Func<Notification, Task>? OnReceived { get; set; }

    /// <summary>One datagram: its assignments (READY=1, STATUS=…) and when it arrived.</summary>
    public sealed record Notification(IReadOnlyList<string> Assignments, DateTime ReceivedAt)
    {
        public bool Has(string assignment) => Assignments.Contains(assignment);

        public override string ToString() => string.Join(" | ", Assignments);
    }

    public IReadOnlyList<Notification> Received
    {
        get
        {
            lock (_received) return [.. _received];
        }
    }

    /// <summary>Waits for the first datagram after <paramref name="skip"/> earlier ones that has <paramref name="assignment"/>.</summary>
    public async Task<Notification> WaitForAsync(string assignment, TimeSpan timeout, int skip = 0)
    {
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            Task changed;
            lock (_received)
            {
                var found = _received.Skip(skip).FirstOrDefault(n => n.Has(assignment));
                if (found is not null) return found;
                changed = _changed.Task;
            }
            try
            {
                await changed.WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no '{assignment}' on the notify socket within {timeout.TotalSeconds:0}s; received: [{string.Join("; ", Received)}]");
            }
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            int n;
            try
            {
                n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var text = Encoding.UTF8.GetString(buffer, 0, n);
            var notification = new Notification(text.Split('\n', StringSplitOptions.RemoveEmptyEntries), DateTime.UtcNow);
            if (OnReceived is { } onReceived)
            {
                await onReceived(notification);
            }
            TaskCompletionSource changed;
            lock (_received)
            {
                _received.Add(notification);
                changed = _changed;
                _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
            }
            changed.TrySetResult();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _socket.Dispose();
        await _loop;
        _stop.Dispose();
        File.Delete(Path);
    }
}

using System.Diagnostics;
using Appliance.Tests.Systemd;

namespace Appliance.Tests.Recording;

/// <summary>
/// <c>appliance run --config FILE</c> as a real process (<c>dotnet appliance.dll</c>), its output collected line by
/// line so a test can wait for what it logs, and signalled like an operator (or the kernel) would.
/// </summary>
internal sealed class ApplianceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ApplianceProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public string Output
    {
        get
        {
            lock (_lines) return string.Join('\n', _lines);
        }
    }

    public static ApplianceProcess Run(string configPath)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "appliance.dll"));
        foreach (var a in (string[])["run", "--config", configPath]) info.ArgumentList.Add(a);
        // Plain single-line console output whatever the environment the tests run in.
        info.Environment.Remove("JOURNAL_STREAM");
        info.Environment.Remove("NOTIFY_SOCKET");
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var self = new ApplianceProcess(process);
        process.OutputDataReceived += (_, e) => self.Add(e.Data);
        process.ErrorDataReceived += (_, e) => self.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return self;
    }

    private void Add(string? line)
    {
        if (line is null) return;
        TaskCompletionSource changed;
        lock (_lines)
        {
            _lines.Add(line);
            changed = _changed;
            _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    }

    /// <summary>Waits until a line containing <paramref name="text"/> appears; fails at once if the process exits first.</summary>
    public async Task<string> WaitForLineAsync(string text, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var exited = _process.WaitForExitAsync(CancellationToken.None); // completes after the last output line
        while (true)
        {
            Task changed;
            lock (_lines)
            {
                var found = _lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
                if (found is not null) return found;
                changed = _changed.Task;
            }
            if (exited.IsCompleted)
            {
                throw new InvalidOperationException($"appliance exited ({_process.ExitCode}) without writing '{text}'; output:\n{Output}");
            }
            try
            {
                await Task.WhenAny(changed, exited).WaitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no line with '{text}' within {timeout.TotalSeconds:0}s; output:\n{Output}");
            }
        }
    }

    public void Signal(int signal) => Posix.Signal(_process.Id, signal);

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"appliance did not exit within {timeout.TotalSeconds:0}s; output:\n{Output}");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

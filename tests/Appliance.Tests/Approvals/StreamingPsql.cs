using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace Appliance.Tests.Approvals;

/// <summary>A psql run whose stderr is read line by line as it comes, so a test can wait for the approval NOTICE.</summary>
internal sealed class StreamingPsql : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stderr = new();
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Found)> _waits = [];
    private readonly Task<string> _stdout;
    private readonly TaskCompletionSource _stderrDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public StreamingPsql(string token, string connection, string sql)
    {
        var info = new ProcessStartInfo("psql") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", connection, "-c", sql }) info.ArgumentList.Add(a);
        info.Environment["PGPASSWORD"] = token;
        info.Environment["PGCONNECT_TIMEOUT"] = "30";
        _process = Process.Start(info)!;
        _process.StandardInput.Close();
        _stdout = _process.StandardOutput.ReadToEndAsync();
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                _stderrDone.TrySetResult();
                return;
            }
            lock (_waits)
            {
                _stderr.AppendLine(e.Data);
                foreach (var (pattern, found) in _waits)
                {
                    if (pattern.Match(e.Data) is { Success: true } m) found.TrySetResult(m);
                }
            }
        };
        _process.BeginErrorReadLine();
    }

    /// <summary>Completes with the first stderr line matching <paramref name="pattern"/> (bounded wait).</summary>
    public async Task<Match> WaitForStderrAsync(string pattern, int seconds = 30)
    {
        var found = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        var regex = new Regex(pattern);
        lock (_waits)
        {
            foreach (var line in _stderr.ToString().Split('\n'))
            {
                if (regex.Match(line) is { Success: true } m) return m;
            }
            _waits.Add((regex, found));
        }
        var done = await Task.WhenAny(found.Task, Task.Delay(TimeSpan.FromSeconds(seconds)));
        Assert.True(done == found.Task, $"psql printed no line matching /{pattern}/ within {seconds}s; stderr so far:\n{Stderr}");
        return await found.Task;
    }

    public string Stderr
    {
        get { lock (_waits) return _stderr.ToString(); }
    }

    public bool HasExited => _process.HasExited;

    public async Task<(int Code, string Stdout, string Stderr)> ExitAsync(int seconds = 60)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        await _process.WaitForExitAsync(timeout.Token);
        await _stderrDone.Task.WaitAsync(timeout.Token);
        return (_process.ExitCode, await _stdout, Stderr);
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        _process.Dispose();
    }
}

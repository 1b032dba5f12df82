using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace Appliance.Tests.Systemd;

/// <summary>
/// The installed unit's <c>ExecStart=</c> run for real, the way systemd would run it: as the unit's
/// <c>User=</c>/<c>Group=</c> with its capabilities (<c>setpriv</c>), its <c>LimitNOFILE=</c> (<c>prlimit</c>),
/// its <c>WorkingDirectory=</c>, a clean environment holding the unit's <c>Environment=</c> lines and what
/// systemd adds (<c>NOTIFY_SOCKET</c>, <c>INVOCATION_ID</c>, <c>JOURNAL_STREAM</c>, <c>*_DIRECTORY</c>).
/// Paths under /opt, /etc/appliance and /var/lib/appliance point into the test's directories instead.
/// </summary>
internal sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly bool _traced;
    private int _servicePid;

    private ServiceProcess(Process process, IReadOnlyList<string> commandLine, bool traced)
    {
        _process = process;
        CommandLine = commandLine;
        _traced = traced;
    }

    /// <summary>The gateway's process id (under strace, the tracer's only child).</summary>
    public int Pid
    {
        get
        {
            if (!_traced) return _process.Id;
            if (_servicePid == 0)
            {
                var children = File.ReadAllText($"/proc/{_process.Id}/task/{_process.Id}/children").Split(' ', StringSplitOptions.RemoveEmptyEntries);
                _servicePid = int.Parse(Assert.Single(children), CultureInfo.InvariantCulture);
            }
            return _servicePid;
        }
    }
    public IReadOnlyList<string> CommandLine { get; }
    public bool HasExited => _process.HasExited;
    public int ExitCode => _process.ExitCode;

    /// <summary>Every line written so far, stdout and stderr interleaved as they arrived.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines) return [.. _lines];
        }
    }

    public string Output => string.Join('\n', Lines);

    /// <param name="journal">Sets <c>JOURNAL_STREAM</c> as systemd does when output goes to the journal.</param>
    /// <param name="tracePath">Runs everything under <c>strace -f</c>, writing the trace there.</param>
    /// <param name="wrapper">A command run as the service user that ends by exec'ing the words after it (a sandbox).</param>
    public static ServiceProcess Start(SystemdFixture fx, ServiceDirectory dir, NotifySocket? notify, bool journal = true, string? tracePath = null, IReadOnlyList<string>? wrapper = null)
    {
        var unit = fx.Unit;
        var exec = unit.ExecStart().ToList();
        Assert.StartsWith("/opt/appliance/", exec[0]);
        exec[0] = fx.Root + exec[0];
        var config = exec.IndexOf("--config");
        Assert.True(config > 0 && config + 1 < exec.Count, "ExecStart has no --config FILE");
        Assert.Equal("/etc/appliance/appliance.yaml", exec[config + 1]);
        exec[config + 1] = dir.ConfigPath;
        Assert.Equal("/var/lib/appliance", unit.Get("Service", "WorkingDirectory"));

        var command = new List<string>();
        if (tracePath is not null)
        {
            command.AddRange(["strace", "-f", "-qq", "-e", "signal=none", "-o", tracePath, "--"]);
        }
        if (unit.Get("Service", "LimitNOFILE") is { } nofile)
        {
            // systemd raises the limit with its own privileges; a test machine without CAP_SYS_RESOURCE (a
            // container) can only go as far as its hard limit.
            var limit = Math.Min(long.Parse(nofile, CultureInfo.InvariantCulture), HardOpenFileLimit());
            command.AddRange(["prlimit", $"--nofile={limit}:{limit}", "--"]);
        }
        var user = unit.Get("Service", "User");
        Assert.NotNull(user);
        var uid = SystemdFixture.PasswdId(fx.Root, "passwd", user);
        var gid = SystemdFixture.PasswdId(fx.Root, "group", unit.Get("Service", "Group") ?? user);
        command.AddRange(["setpriv", $"--reuid={uid}", $"--regid={gid}", "--clear-groups"]);
        if (unit.Get("Service", "NoNewPrivileges") == "yes")
        {
            command.Add("--no-new-privs");
        }
        var ambient = Capabilities(unit.All("Service", "AmbientCapabilities"));
        var bounding = Capabilities(unit.All("Service", "CapabilityBoundingSet"));
        command.Add($"--inh-caps=-all{ambient}");
        command.Add($"--ambient-caps=-all{ambient}");
        command.Add($"--bounding-set=-all{bounding}");
        command.Add("--");
        command.AddRange(wrapper ?? []);
        command.AddRange(exec);

        var info = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = dir.StateDir,
        };
        foreach (var word in command.Skip(1)) info.ArgumentList.Add(word);
        info.Environment.Clear();
        info.Environment["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin";
        info.Environment["LANG"] = "C.UTF-8";
        info.Environment["HOME"] = dir.StateDir;
        info.Environment["USER"] = user;
        info.Environment["LOGNAME"] = user;
        info.Environment["SHELL"] = "/usr/sbin/nologin";
        info.Environment["INVOCATION_ID"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        info.Environment["STATE_DIRECTORY"] = dir.StateDir;
        info.Environment["CONFIGURATION_DIRECTORY"] = dir.Path;
        info.Environment["RUNTIME_DIRECTORY"] = dir.RuntimeDir;
        if (journal)
        {
            info.Environment["JOURNAL_STREAM"] = "8:424242";
        }
        if (notify is not null)
        {
            info.Environment["NOTIFY_SOCKET"] = notify.Path;
        }
        foreach (var (key, value) in unit.Environment())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var service = new ServiceProcess(process, command, tracePath is not null);
        process.OutputDataReceived += (_, e) => service.Add(e.Data);
        process.ErrorDataReceived += (_, e) => service.Add(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    /// <summary>This process's hard RLIMIT_NOFILE, from /proc/self/limits.</summary>
    public static long HardOpenFileLimit()
    {
        var line = File.ReadLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var hard = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        return hard == "unlimited" ? long.MaxValue : long.Parse(hard, CultureInfo.InvariantCulture);
    }

    private static string Capabilities(IReadOnlyList<string> values) =>
        string.Concat(values.SelectMany(v => v.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(c => ",+" + c.ToLowerInvariant().Replace("cap_", "", StringComparison.Ordinal)));

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

    /// <summary>Waits until a line containing <paramref name="text"/> appears after the first <paramref name="skip"/> lines.</summary>
    public async Task<string> WaitForLineAsync(string text, TimeSpan timeout, int skip = 0)
    {
        using var cts = new CancellationTokenSource(timeout);
        var exited = _process.WaitForExitAsync(CancellationToken.None); // completes after the last output line
        while (true)
        {
            Task changed;
            lock (_lines)
            {
                var found = _lines.Skip(skip).FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal));
                if (found is not null) return found;
                changed = _changed.Task;
            }
            if (exited.IsCompleted)
            {
                throw new InvalidOperationException($"the service exited ({_process.ExitCode}) without writing '{text}'; output:\n{Output}");
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

    /// <summary>Waits for <paramref name="assignment"/> on the notify socket, failing at once if the service exits first.</summary>
    public async Task<NotifySocket.Notification> WaitForNotifyAsync(NotifySocket notify, string assignment, TimeSpan timeout, int skip = 0)
    {
        var wait = notify.WaitForAsync(assignment, timeout, skip);
        var exited = _process.WaitForExitAsync();
        if (await Task.WhenAny(wait, exited) != wait && !wait.IsCompleted)
        {
            throw new InvalidOperationException($"the service exited ({_process.ExitCode}) before sending {assignment}; output:\n{Output}");
        }
        return await wait;
    }

    public void Signal(int signal) => Posix.Signal(Pid, signal);

    /// <summary>Waits for the process to exit; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"the service did not exit within {timeout.TotalSeconds:0}s; output:\n{Output}");
        }
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            if (_traced)
            {
                Posix.Signal(Pid, Posix.SigKill); // a killed tracer would leave its tracee running
            }
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }
}

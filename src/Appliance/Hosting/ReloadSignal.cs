using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Appliance.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace Appliance.Hosting;

/// <summary>
/// <c>systemctl reload</c> (SIGHUP): re-reads the configuration file and, when it is valid, hands it to every
/// <see cref="IConfigReloadTarget"/>. An invalid file is rejected with every problem logged, and the gateway keeps
/// running with what it had. Signals arriving during a reload are folded into one more reload.
/// </summary>
internal sealed class ReloadSignal(ApplianceConfig startConfig, IServiceProvider services, ILogger<ReloadSignal> logger) : IHostedService, IDisposable
{
    // One pending reload is enough: it reads the file as it is when it starts.
    private readonly Channel<bool> _requests = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly CancellationTokenSource _stopping = new();
    private PosixSignalRegistration? _registration;
    private Task _loop = Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _loop = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        _registration = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
        {
            context.Cancel = true; // SIGHUP would otherwise end the process
            _requests.Writer.TryWrite(true);
        });
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _registration?.Dispose();
        _requests.Writer.TryComplete();
        await _stopping.CancelAsync();
        await _loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }

    public void Dispose()
    {
        _registration?.Dispose();
        _stopping.Dispose();
    }

    private async Task RunAsync(CancellationToken ct)
    {
        try
        {
            await foreach (var _ in _requests.Reader.ReadAllAsync(ct))
            {
                await ReloadAsync(ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reads, validates and applies the configuration file once. Returns true when it was applied.</summary>
    internal async Task<bool> ReloadAsync(CancellationToken ct) => (await ReloadWithProblemsAsync(ct)).Count == 0;

    /// <summary>As <see cref="ReloadAsync"/>, returning every problem (empty when the configuration was applied).</summary>
    internal async Task<IReadOnlyList<string>> ReloadWithProblemsAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            return await ReloadOnceAsync(ct);
        }
        finally
        {
            _gate.Release();
        }
    }

    private readonly SemaphoreSlim _gate = new(1, 1);

    private async Task<IReadOnlyList<string>> ReloadOnceAsync(CancellationToken ct)
    {
        var path = startConfig.SourcePath;
        if (path.Length == 0)
        {
            logger.LogWarning("reload requested, but this configuration did not come from a file; nothing to reload");
            return ["this configuration did not come from a file; nothing to reload"];
        }
        var notifier = services.GetService<ISystemdNotifier>();
        Notify(notifier, $"RELOADING=1\nMONOTONIC_USEC={MonotonicMicroseconds()}\nSTATUS=reloading {path}");
        logger.LogInformation("reloading the configuration from {ConfigPath}", path);

        var loaded = ConfigLoader.LoadFile(path);
        var problems = loaded.Errors.Select(e => e.ToString()).ToList();
        if (loaded.Succeeded)
        {
            problems.AddRange(ConfigLoader.CheckReferencedFiles(loaded.Config, path).Select(e => e.ToString()));
            problems.AddRange(SecretFiles.Problems(loaded.Config));
        }
        if (!loaded.Succeeded || problems.Count > 0)
        {
            logger.LogError("configuration reload rejected: {ProblemCount} problems in {ConfigPath}; the previous configuration stays in effect", problems.Count, path);
            foreach (var problem in problems)
            {
                logger.LogError("configuration reload rejected: {Problem}", problem);
            }
            Notify(notifier, $"READY=1\nSTATUS=reload rejected ({problems.Count} problems, see the journal); running with the previous configuration");
            return problems;
        }

        var failed = 0;
        foreach (var target in services.GetServices<IConfigReloadTarget>())
        {
            try
            {
                await target.ApplyAsync(loaded.Config, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                failed++;
                problems.Add($"{target.GetType().Name}: {e.Message}");
                logger.LogError("configuration reload: {Component} could not apply the new configuration: {Error}", target.GetType().Name, e.Message);
            }
        }
        if (failed == 0)
        {
            logger.LogInformation("configuration reloaded from {ConfigPath}", path);
            Notify(notifier, $"READY=1\nSTATUS=running; configuration reloaded at {DateTimeOffset.UtcNow:u}");
        }
        else
        {
            Notify(notifier, $"READY=1\nSTATUS=configuration reload incomplete ({failed} components failed, see the journal)");
        }
        return problems;
    }

    private static void Notify(ISystemdNotifier? notifier, string state)
    {
        if (notifier is { IsEnabled: true })
        {
            notifier.Notify(new ServiceState(state));
        }
    }

    // sd_notify wants CLOCK_MONOTONIC; Stopwatch reads that clock on Linux.
    private static string MonotonicMicroseconds() =>
        (Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000)).ToString(CultureInfo.InvariantCulture);
}

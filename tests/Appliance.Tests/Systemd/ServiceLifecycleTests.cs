using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Appliance.Demo;
using Appliance.Identity;
using Npgsql;
using Xunit.Abstractions;

namespace Appliance.Tests.Systemd;

/// <summary>
/// The installed gateway run from the unit's ExecStart as systemd would run it: readiness, reload, drain on
/// stop, journal-formatted logs, and the refusal to start with a shared secret file.
/// </summary>
[Collection(SystemdCollection.Name)]
public sealed partial class ServiceLifecycleTests(SystemdFixture fx, ITestOutputHelper output)
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Start_ReadyNotifiedOnlyOnceListenerAccepts_ThenServesAndStops()
    {
        using var dir = new ServiceDirectory(fx);
        await using var notify = new NotifySocket(dir.NotifySocketPath);
        var started = new TaskCompletionSource<ServiceProcess>(TaskCreationOptions.RunContinuationsAsynchronously);
        string? probe = null;
        notify.OnReceived = async n =>
        {
            if (!n.Has("READY=1") || probe is not null) return;
            var service = await started.Task;
            // Freeze the service the moment it says ready: a listener it had not bound by then cannot appear now.
            service.Signal(Posix.SigStop);
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, dir.Port).WaitAsync(TimeSpan.FromSeconds(10));
                probe = "accepted";
            }
            catch (Exception e)
            {
                probe = $"{e.GetType().Name}: {e.Message}";
            }
            finally
            {
                service.Signal(Posix.SigCont);
            }
        };
        var clock = Stopwatch.StartNew();
        await using var service = ServiceProcess.Start(fx, dir, notify);
        started.SetResult(service);

        var ready = await service.WaitForNotifyAsync(notify, "READY=1", StartTimeout);
        var toReady = clock.Elapsed;
        output.WriteLine($"start-up to READY=1: {toReady.TotalMilliseconds:0} ms ({fx.Unit.Get("Service", "ExecStart")})");
        Assert.Equal("accepted", probe);
        Assert.DoesNotContain(notify.Received.TakeWhile(n => n != ready), n => n.Has("READY=1"));

        // Served as the unit's user: a real client gets through to PostgreSQL.
        await using (var conn = Connect(dir, fx.Env.Token("test")))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT current_user", conn);
            Assert.Equal(DemoEnvironment.UpstreamUser, await cmd.ExecuteScalarAsync());
        }
        Assert.Contains(service.Lines, l => l.Contains("session started for", StringComparison.Ordinal));

        // No session left, so stop does not wait for the drain deadline.
        clock.Restart();
        service.Signal(Posix.SigTerm);
        await notify.WaitForAsync("STOPPING=1", StepTimeout);
        Assert.Equal(0, await service.WaitForExitAsync(StepTimeout));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(3), $"stop with no sessions took {clock.Elapsed}");
    }

    [Fact]
    public async Task Start_ListenAddressTaken_ExitsFailedWithoutReady()
    {
        using var dir = new ServiceDirectory(fx);
        using var squatter = new TcpListener(IPAddress.Loopback, dir.Port);
        squatter.Start();
        await using var notify = new NotifySocket(dir.NotifySocketPath);
        await using var service = ServiceProcess.Start(fx, dir, notify);

        var code = await service.WaitForExitAsync(StartTimeout);

        Assert.NotEqual(0, code);
        Assert.DoesNotContain(notify.Received, n => n.Has("READY=1"));
        Assert.Contains(service.Lines, l => l.Contains("cannot start", StringComparison.Ordinal));
        output.WriteLine(service.Output);
    }

    [Fact]
    public async Task Logs_UnderJournal_CarryPriorityPrefixes_OtherwisePlainLines()
    {
        using var dir = new ServiceDirectory(fx);
        foreach (var journal in new[] { true, false })
        {
            await using var notify = new NotifySocket(dir.NotifySocketPath);
            await using var service = ServiceProcess.Start(fx, dir, notify, journal);
            await service.WaitForNotifyAsync(notify, "READY=1", StartTimeout);
            var listening = await service.WaitForLineAsync("PostgreSQL listener on", StepTimeout);
            service.Signal(Posix.SigTerm);
            Assert.Equal(0, await service.WaitForExitAsync(StepTimeout));

            output.WriteLine($"JOURNAL_STREAM {(journal ? "set" : "unset")}: {listening}");
            if (journal)
            {
                // <6> = informational: journald stores it as PRIORITY=6 and strips the prefix.
                Assert.StartsWith("<6>", listening);
                Assert.All(service.Lines, l => Assert.Matches(JournalPrefix(), l));
            }
            else
            {
                Assert.DoesNotContain(service.Lines, l => JournalPrefix().IsMatch(l));
                Assert.Contains("info:", listening);
            }
        }
    }

    [Fact]
    public async Task Reload_ValidConfig_AppliesNewSigningKeys()
    {
        using var dir = new ServiceDirectory(fx);
        await using var notify = new NotifySocket(dir.NotifySocketPath);
        await using var service = ServiceProcess.Start(fx, dir, notify);
        await service.WaitForNotifyAsync(notify, "READY=1", StartTimeout);
        var (rotatedJwks, rotatedToken) = RotatedKey();
        await AssertLoginRefusedAsync(dir, rotatedToken);

        dir.WriteJwks(rotatedJwks);
        dir.WriteConfig(dir.ConfigYaml("4s")); // a changed but valid file
        var (notified, logged) = (notify.Received.Count, service.Lines.Count);
        service.Signal(Posix.SigHup);

        var line = await service.WaitForLineAsync("configuration reloaded from", StepTimeout, logged);
        await notify.WaitForAsync("RELOADING=1", StepTimeout, notified);
        var readyAgain = await notify.WaitForAsync("READY=1", StepTimeout, notified);
        output.WriteLine(line);
        output.WriteLine($"notify after SIGHUP: {string.Join(" ; ", notify.Received.Skip(notified))}");
        Assert.StartsWith("<6>", line);
        Assert.Contains(readyAgain.Assignments, a => a.StartsWith("STATUS=running; configuration reloaded", StringComparison.Ordinal));
        Assert.False(service.HasExited);
        await AssertLoginWorksAsync(dir, rotatedToken);
        await AssertLoginRefusedAsync(dir, fx.Env.Token("test")); // the old key is gone with the old JWKS
    }

    [Fact]
    public async Task Reload_InvalidConfig_LogsEveryProblemAndKeepsRunningOnOldConfig()
    {
        using var dir = new ServiceDirectory(fx);
        await using var notify = new NotifySocket(dir.NotifySocketPath);
        await using var service = ServiceProcess.Start(fx, dir, notify);
        await service.WaitForNotifyAsync(notify, "READY=1", StartTimeout);
        await using var open = Connect(dir, fx.Env.Token("test"));
        await open.OpenAsync();
        var (rotatedJwks, rotatedToken) = RotatedKey();

        // Two mistakes: an unknown key and a port that is not a number. The JWKS changes too, so that an
        // accidental partial reload would show.
        dir.WriteJwks(rotatedJwks);
        var good = dir.ConfigYaml("3s");
        dir.WriteConfig(good.Replace("shutdown:", "shutdwon_typo: 1\nshutdown:", StringComparison.Ordinal)
                            .Replace($"port: {fx.Env.Postgres.Port}", "port: five-four-three-two", StringComparison.Ordinal));
        var (notified, logged) = (notify.Received.Count, service.Lines.Count);
        service.Signal(Posix.SigHup);

        var summary = await service.WaitForLineAsync("configuration reload rejected: 2 problems", StepTimeout, logged);
        var typo = await service.WaitForLineAsync("shutdwon_typo", StepTimeout, logged);
        var port = await service.WaitForLineAsync("upstream.port", StepTimeout, logged);
        var status = await notify.WaitForAsync("READY=1", StepTimeout, notified);
        foreach (var line in new[] { summary, typo, port }) output.WriteLine(line);
        Assert.All(new[] { summary, typo, port }, l => Assert.StartsWith("<3>", l)); // error priority
        Assert.Contains(dir.ConfigPath, typo);
        Assert.Contains(status.Assignments, a => a.StartsWith("STATUS=reload rejected (2 problems", StringComparison.Ordinal));
        Assert.DoesNotContain(service.Lines.Skip(logged), l => l.Contains("configuration reloaded", StringComparison.Ordinal));

        // Still running on the old configuration: the open session works, the old key still logs in, the new one does not.
        Assert.False(service.HasExited);
        await using (var cmd = new NpgsqlCommand("SELECT 1", open))
        {
            Assert.Equal(1, await cmd.ExecuteScalarAsync());
        }
        await AssertLoginWorksAsync(dir, fx.Env.Token("test"));
        await AssertLoginRefusedAsync(dir, rotatedToken);

        // Fixed file, next SIGHUP: applied.
        dir.WriteConfig(good);
        logged = service.Lines.Count;
        service.Signal(Posix.SigHup);
        await service.WaitForLineAsync("configuration reloaded from", StepTimeout, logged);
        await AssertLoginWorksAsync(dir, rotatedToken);
    }

    [Theory]
    [InlineData(Posix.SigTerm, true)]  // systemctl stop
    [InlineData(Posix.SigInt, true)]
    [InlineData(Posix.SigTerm, false)] // run by hand or by another supervisor
    [InlineData(Posix.SigInt, false)]  // Ctrl+C
    public async Task Stop_Signal_DrainsUntilDeadlineThenEndsIdleSessionWith57P01(int signal, bool underSystemd)
    {
        var drain = TimeSpan.FromSeconds(4);
        using var dir = new ServiceDirectory(fx, drainTimeout: "4s");
        await using var notify = new NotifySocket(dir.NotifySocketPath);
        await using var service = ServiceProcess.Start(fx, dir, underSystemd ? notify : null, journal: underSystemd);
        await service.WaitForLineAsync("PostgreSQL listener on", StartTimeout);
        await using var idle = Connect(dir, fx.Env.Token("test"));
        await idle.OpenAsync();
        await using (var cmd = new NpgsqlCommand("SELECT 1", idle))
        {
            await cmd.ExecuteScalarAsync();
        }
        // An idle client learns of the shutdown from what the server sends; wait for it as Npgsql would for a NOTIFY.
        using var clientWait = new CancellationTokenSource(StepTimeout + drain);
        var serverMessage = idle.WaitAsync(clientWait.Token);

        var clock = Stopwatch.StartNew();
        service.Signal(signal);
        if (underSystemd)
        {
            await notify.WaitForAsync("STOPPING=1", StepTimeout);
        }
        var code = await service.WaitForExitAsync(drain + StepTimeout);
        var stopped = clock.Elapsed;
        var error = await Assert.ThrowsAsync<PostgresException>(() => serverMessage);

        output.WriteLine($"signal {signal}, {(underSystemd ? "NOTIFY_SOCKET set" : "no service manager")}: drain_timeout {drain.TotalSeconds}s; exited {stopped.TotalMilliseconds:0} ms after the signal with {code}; client got {error.Severity} {error.SqlState}: {error.MessageText}");
        Assert.Equal(0, code);
        Assert.Equal("57P01", error.SqlState);
        Assert.Equal("FATAL", error.Severity);
        Assert.True(stopped >= drain - TimeSpan.FromMilliseconds(200), $"exited after {stopped}, before the drain deadline {drain}: the session was not given its time");
        var budget = TimeSpan.FromSeconds(10); // the host's own margin over drain_timeout (GatewayHost)
        Assert.True(stopped <= drain + budget, $"exited after {stopped}, beyond drain_timeout + {budget.TotalSeconds}s");
        Assert.Contains(service.Lines, l => l.Contains("draining 1 sessions", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(0x1A4, "0644")] // world-readable
    [InlineData(0x1A0, "0640")] // group-readable
    public async Task Start_SharedSecretFile_RefusesNamingFileAndMode(int mode, string octal)
    {
        using var dir = new ServiceDirectory(fx);
        var secret = dir.WriteSecret("orders", fx.Env.UpstreamPassword, (UnixFileMode)mode);
        await using var notify = new NotifySocket(dir.NotifySocketPath);
        await using var service = ServiceProcess.Start(fx, dir, notify);

        var code = await service.WaitForExitAsync(StartTimeout);

        output.WriteLine(service.Output);
        Assert.Equal(2, code); // the unit's RestartPreventExitStatus: restarting cannot fix a file mode
        Assert.Equal("2", fx.Unit.Get("Service", "RestartPreventExitStatus"));
        var line = Assert.Single(service.Lines, l => l.Contains("refusing to start", StringComparison.Ordinal));
        Assert.Contains(secret, line);
        Assert.Contains($"mode {octal}", line);
        Assert.Contains("password_file", line);
        Assert.DoesNotContain(notify.Received, n => n.Has("READY=1"));
        Assert.DoesNotContain(fx.Env.UpstreamPassword, service.Output);
    }

    private static NpgsqlConnection Connect(ServiceDirectory dir, string token) =>
        new($"Host=localhost;Port={dir.Port};Database=orders;Username=ci;Password={token};SSL Mode=VerifyFull;Root Certificate={dir.CaPath};Pooling=false;Timeout=30;Command Timeout=30");

    private static async Task AssertLoginWorksAsync(ServiceDirectory dir, string token)
    {
        await using var conn = Connect(dir, token);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT 1", conn);
        Assert.Equal(1, await cmd.ExecuteScalarAsync());
    }

    private static async Task AssertLoginRefusedAsync(ServiceDirectory dir, string token)
    {
        await using var conn = Connect(dir, token);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => conn.OpenAsync());
        Assert.Equal("28P01", refused.SqlState); // the token is refused
    }

    /// <summary>A JWKS holding only a new key, and a token of the demo's test principal signed with it.</summary>
    private static (string Jwks, string Token) RotatedKey()
    {
        var key = SigningKeys.Generate("ES256");
        var token = new TokenMinter(key).Mint(DemoEnvironment.Issuer, DemoEnvironment.Audience, "rotated", TimeSpan.FromHours(1), DemoEnvironment.Principals["test"]);
        return (SigningKeys.ExportJwks([key]), token);
    }

    [GeneratedRegex(@"^<[0-7]>")]
    private static partial Regex JournalPrefix();
}

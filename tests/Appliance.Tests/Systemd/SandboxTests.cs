using System.Text.RegularExpressions;
using Npgsql;
using Xunit.Abstractions;

namespace Appliance.Tests.Systemd;

/// <summary>
/// What the unit forbids, checked against what the gateway actually does. No systemd runs here to enforce the
/// sandbox, so the gateway runs under strace through a whole life (start, a session, a reload, a drain on stop)
/// and every system call, socket family and written path is compared with the unit's SystemCallFilter=,
/// RestrictAddressFamilies= and the directories ProtectSystem=strict leaves writable.
/// </summary>
[Collection(SystemdCollection.Name)]
public sealed partial class SandboxTests(SystemdFixture fx, ITestOutputHelper output)
{
    [Fact]
    public async Task TracedLifecycle_StaysWithinSyscallFilterAddressFamiliesAndWritablePaths()
    {
        using var dir = new ServiceDirectory(fx, drainTimeout: "2s");
        dir.WriteConfig(dir.ConfigYaml("2s", upstreamHost: "localhost")); // name resolution is part of the life
        var tracePath = Path.Combine(dir.Path, "strace.txt");
        await using (var notify = new NotifySocket(dir.NotifySocketPath))
        await using (var service = ServiceProcess.Start(fx, dir, notify, tracePath: tracePath))
        {
            await service.WaitForNotifyAsync(notify, "READY=1", TimeSpan.FromMinutes(3));
            await using (var conn = new NpgsqlConnection($"Host=localhost;Port={dir.Port};Database=orders;Username=ci;Password={fx.Env.Token("test")};SSL Mode=VerifyFull;Root Certificate={dir.CaPath};Pooling=false;Timeout=60;Command Timeout=60"))
            {
                await conn.OpenAsync();
                await using var cmd = new NpgsqlCommand("SELECT count(*) FROM customers", conn);
                Assert.Equal(3L, await cmd.ExecuteScalarAsync());
            }
            var logged = service.Lines.Count;
            service.Signal(Posix.SigHup);
            await service.WaitForLineAsync("configuration reloaded", TimeSpan.FromMinutes(1), logged);
            service.Signal(Posix.SigTerm);
            Assert.Equal(0, await service.WaitForExitAsync(TimeSpan.FromMinutes(1)));
        }

        var trace = (await File.ReadAllLinesAsync(tracePath))
            .SkipWhile(l => !ServiceExec().IsMatch(l)) // prlimit and setpriv do their privileged work before exec
            .ToList();
        Assert.NotEmpty(trace);
        var unit = fx.Unit;

        var used = trace.Select(l => SyscallName().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet();
        var allowed = await AllowedSyscallsAsync(unit);
        var forbidden = used.Where(s => !allowed.Contains(s)).Order().ToList();
        output.WriteLine($"{used.Count} distinct system calls; outside SystemCallFilter: {(forbidden.Count == 0 ? "none" : string.Join(", ", forbidden))}");
        Assert.Empty(forbidden);

        var families = trace.Select(l => SocketFamily().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value).ToHashSet();
        var permitted = unit.Get("Service", "RestrictAddressFamilies")!.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        output.WriteLine($"socket families used: {string.Join(", ", families.Order())}; permitted: {string.Join(", ", permitted.Order())}");
        Assert.Subset(permitted, families);

        var writable = new[] { dir.StateDir, dir.RuntimeDir }; // StateDirectory=, RuntimeDirectory=
        var written = trace.Select(l => WriteOpen().Match(l)).Where(m => m.Success).Select(m => m.Groups[1].Value)
            .Select(p => Path.GetFullPath(p, dir.StateDir)).Distinct().Order().ToList();
        output.WriteLine("opened for writing: " + string.Join(", ", written));
        var outside = written.Where(p =>
            !writable.Any(w => p == w || p.StartsWith(w + "/", StringComparison.Ordinal)) &&
            !(p.StartsWith("/tmp/", StringComparison.Ordinal) && !p.StartsWith(dir.Path + "/", StringComparison.Ordinal)) && // PrivateTmp=
            !DeviceNodes.Contains(p) &&
            !p.StartsWith("/dev/shm/", StringComparison.Ordinal) &&    // the runtime's startup semaphore; PrivateDevices= keeps /dev/shm
            !p.StartsWith("/proc/self/", StringComparison.Ordinal))    // thread names; not a file system ProtectSystem= covers
            .ToList();
        Assert.Empty(outside);
    }

    [Fact]
    public async Task EnforcedFilters_GatewayStartsServesReloadsAndDrains()
    {
        // The unit's SystemCallFilter= (with SystemCallErrorNumber=EPERM) and RestrictAddressFamilies= loaded as the
        // seccomp filter systemd would load, just before the gateway's exec.
        var unit = fx.Unit;
        Assert.Equal("EPERM", unit.Get("Service", "SystemCallErrorNumber"));
        using var dir = new ServiceDirectory(fx, drainTimeout: "2s");
        dir.WriteConfig(dir.ConfigYaml("2s", upstreamHost: "localhost"));
        var allowedPath = Path.Combine(dir.Path, "syscalls.txt");
        await File.WriteAllTextAsync(allowedPath, string.Join('\n', (await AllowedSyscallsAsync(unit)).Order()));
        var launcher = Path.Combine(dir.Path, "seccomp-exec.py");
        await File.WriteAllTextAsync(launcher, SeccompLauncher);
        var families = unit.Get("Service", "RestrictAddressFamilies")!.Replace(' ', ',');

        await using var notify = new NotifySocket(dir.NotifySocketPath);
        await using var service = ServiceProcess.Start(fx, dir, notify, wrapper: ["/usr/bin/python3", launcher, allowedPath, families]);
        await service.WaitForNotifyAsync(notify, "READY=1", TimeSpan.FromMinutes(1));
        await using (var idle = new NpgsqlConnection($"Host=localhost;Port={dir.Port};Database=orders;Username=ci;Password={fx.Env.Token("test")};SSL Mode=VerifyFull;Root Certificate={dir.CaPath};Pooling=false;Timeout=30;Command Timeout=30"))
        {
            await idle.OpenAsync();
            await using (var cmd = new NpgsqlCommand("SELECT count(*) FROM customers", idle))
            {
                Assert.Equal(3L, await cmd.ExecuteScalarAsync());
            }
            var logged = service.Lines.Count;
            service.Signal(Posix.SigHup);
            await service.WaitForLineAsync("configuration reloaded", TimeSpan.FromSeconds(30), logged);
            service.Signal(Posix.SigTerm);
            Assert.Equal(0, await service.WaitForExitAsync(TimeSpan.FromSeconds(30)));
            var error = await Assert.ThrowsAsync<PostgresException>(async () =>
            {
                await using var cmd = new NpgsqlCommand("SELECT 1", idle);
                await cmd.ExecuteScalarAsync();
            });
            Assert.Equal("57P01", error.SqlState);
        }
        output.WriteLine(service.Output);
        Assert.Contains(service.Lines, l => l.Contains("seccomp filter loaded", StringComparison.Ordinal));
    }

    // Loads an allow-list filter whose default is EPERM, plus socket() allowed only for the listed families
    // (EAFNOSUPPORT for the others, as systemd does), then execs the command.
    private const string SeccompLauncher = """
        import errno, os, socket, sys
        import seccomp
        names = open(sys.argv[1]).read().split()
        families = {getattr(socket, f) for f in sys.argv[2].split(',')}
        f = seccomp.SyscallFilter(defaction=seccomp.ERRNO(errno.EPERM))
        unknown = []
        for name in names:
            if name == 'socket':
                continue
            try:
                f.add_rule(seccomp.ALLOW, name)
            except Exception:
                unknown.append(name)  # not a system call on this architecture, as systemd skips it
        if 'socket' in names:
            for family in range(64):
                action = seccomp.ALLOW if family in families else seccomp.ERRNO(errno.EAFNOSUPPORT)
                f.add_rule(action, 'socket', seccomp.Arg(0, seccomp.EQ, family))
        f.load()
        print(f'seccomp filter loaded: {len(names) - len(unknown)} system calls allowed, families {sorted(families)}', file=sys.stderr, flush=True)
        os.execv(sys.argv[3], sys.argv[3:])
        """;

    // What PrivateDevices= still provides.
    private static readonly HashSet<string> DeviceNodes = ["/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom", "/dev/tty"];

    /// <summary>The unit's allow-list minus its deny-lists, expanded through systemd's own group definitions.</summary>
    private static async Task<HashSet<string>> AllowedSyscallsAsync(UnitFile unit)
    {
        var allowed = new HashSet<string>(await ExpandAsync("@default"));
        foreach (var line in unit.All("Service", "SystemCallFilter"))
        {
            var deny = line.StartsWith('~');
            foreach (var item in line.TrimStart('~').Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var names = await ExpandAsync(item);
                if (deny) allowed.ExceptWith(names);
                else allowed.UnionWith(names);
            }
        }
        return allowed;
    }

    private static async Task<HashSet<string>> ExpandAsync(string item)
    {
        if (!item.StartsWith('@')) return [item];
        var (code, listing) = await SystemdFixture.RunAsync("systemd-analyze", ["syscall-filter", "--no-pager", item]);
        Assert.Equal(0, code);
        var result = new HashSet<string>();
        foreach (var entry in listing.Split('\n').Skip(1).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')))
        {
            result.UnionWith(await ExpandAsync(entry));
        }
        return result;
    }

    [GeneratedRegex(@"^\d+\s+execve\(""[^""]*/appliance"".*= 0$")]
    private static partial Regex ServiceExec();

    // "123 openat(" or "123 <... openat resumed>"
    [GeneratedRegex(@"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)(?:\(| resumed>)")]
    private static partial Regex SyscallName();

    [GeneratedRegex(@"\bsocket(?:pair)?\((AF_[A-Z0-9]+)")]
    private static partial Regex SocketFamily();

    [GeneratedRegex(@"\b(?:openat|open|creat)\((?:AT_FDCWD|\d+), ""([^""]+)"", [A-Z_|]*(?:O_WRONLY|O_RDWR|O_CREAT)")]
    private static partial Regex WriteOpen();
}

using System.Globalization;
using System.Text.RegularExpressions;
using Appliance.Configuration;
using Xunit.Abstractions;

namespace Appliance.Tests.Systemd;

/// <summary>The unit file as systemd's own tools judge it, and the promises the README makes about it.</summary>
[Collection(SystemdCollection.Name)]
public sealed partial class UnitFileTests(SystemdFixture fx, ITestOutputHelper output)
{
    private string RepoUnit => Path.Combine(fx.SystemdDir, "appliance.service");

    [Fact]
    public async Task Verify_InstalledUnit_NoComplaints()
    {
        // systemd-analyze verify checks that ExecStart's binary exists, so point it at the installed tree; every
        // other line is the unit exactly as installed.
        var dir = SystemdFixture.NewRoot("appliance-verify-");
        try
        {
            var text = await File.ReadAllTextAsync(fx.InstalledUnitPath);
            var rebased = text.Replace("ExecStart=/opt/appliance/", $"ExecStart={fx.Root}/opt/appliance/", StringComparison.Ordinal);
            Assert.NotEqual(text, rebased);
            var unit = Path.Combine(dir, "appliance.service");
            await File.WriteAllTextAsync(unit, rebased);

            var (code, said) = await SystemdFixture.RunAsync("systemd-analyze", ["verify", unit]);

            output.WriteLine($"systemd-analyze verify: exit {code}{(said.Length > 0 ? ":\n" + said : ", no output")}");
            Assert.Equal(0, code);
            Assert.Equal("", said.Trim()); // unknown keys and bad values are only warnings: any output is a failure
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Verify_MisspelledDirective_IsReported()
    {
        // The check above relies on verify printing warnings; make sure it does on this systemd.
        var dir = SystemdFixture.NewRoot("appliance-verify-");
        try
        {
            var unit = Path.Combine(dir, "appliance.service");
            var text = (await File.ReadAllTextAsync(fx.InstalledUnitPath))
                .Replace("ExecStart=/opt/appliance/", $"ExecStart={fx.Root}/opt/appliance/", StringComparison.Ordinal)
                .Replace("ProtectSystem=", "ProtectSytem=", StringComparison.Ordinal);
            await File.WriteAllTextAsync(unit, text);

            var (_, said) = await SystemdFixture.RunAsync("systemd-analyze", ["verify", unit]);

            Assert.Contains("ProtectSytem", said);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Security_Offline_ExposureAtMost2Point5()
    {
        // `security` normally asks the running manager about a loaded unit; --offline reads the file itself.
        var (code, said) = await SystemdFixture.RunAsync("systemd-analyze", ["security", "--offline=true", "--threshold=25", "--no-pager", RepoUnit]);

        var match = OverallExposure().Match(said);
        Assert.True(match.Success, $"no overall exposure line in:\n{said}");
        var score = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        output.WriteLine($"systemd-analyze security --offline: {match.Value.Trim()}");
        foreach (var line in said.Split('\n').Where(l => l.StartsWith('✗')))
        {
            output.WriteLine("  " + line.TrimEnd());
        }
        Assert.True(score <= 2.5, $"exposure {score} is above 2.5:\n{said}");
        Assert.Equal(0, code); // --threshold=25 fails the command above 2.5 too
    }

    [Fact]
    public void Unit_ServiceSettings_AsDocumented()
    {
        var unit = UnitFile.Load(RepoUnit);
        string? S(string key) => unit.Get("Service", key);

        Assert.Equal("notify", S("Type"));
        Assert.Equal("/bin/kill -HUP $MAINPID", S("ExecReload"));
        Assert.Equal("on-failure", S("Restart"));
        Assert.Equal("appliance", S("User"));
        Assert.Equal("appliance", S("StateDirectory"));
        Assert.Equal("appliance", S("ConfigurationDirectory"));
        Assert.Equal("appliance", S("RuntimeDirectory"));
        Assert.Equal("CAP_NET_BIND_SERVICE", S("AmbientCapabilities"));
        Assert.Equal(S("AmbientCapabilities"), S("CapabilityBoundingSet"));
        Assert.Equal("no", S("MemoryDenyWriteExecute")); // the JIT writes code, then runs it
        var env = unit.Environment();
        Assert.Equal("0", env["DOTNET_gcServer"]);

        foreach (var (key, value) in new[]
        {
            ("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
            ("PrivateDevices", "yes"), ("ProtectKernelTunables", "yes"), ("ProtectKernelModules", "yes"),
            ("ProtectKernelLogs", "yes"), ("ProtectControlGroups", "yes"), ("RestrictNamespaces", "yes"),
            ("LockPersonality", "yes"), ("RestrictRealtime", "yes"), ("RestrictSUIDSGID", "yes"),
        })
        {
            Assert.True(S(key) == value, $"{key}={S(key)}, expected {value}");
        }
        Assert.Contains("@system-service", unit.All("Service", "SystemCallFilter"));
        Assert.Equal(["AF_INET", "AF_INET6", "AF_UNIX"], S("RestrictAddressFamilies")!.Split(' ').Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Unit_Limits_CoverDefaultSessionsAndDrain()
    {
        var unit = UnitFile.Load(RepoUnit);
        var defaults = new ApplianceConfig();

        // Two descriptors per session (client, upstream) at the default session limit, with room to spare.
        var nofile = long.Parse(unit.Get("Service", "LimitNOFILE")!, CultureInfo.InvariantCulture);
        Assert.True(nofile >= 4L * defaults.Limits.MaxSessions, $"LimitNOFILE={nofile}");

        // systemd must not SIGKILL the gateway while it drains: the host allows drain_timeout + 10s (GatewayHost).
        var stop = ParseSeconds(unit.Get("Service", "TimeoutStopSec")!);
        Assert.True(stop >= defaults.Shutdown.DrainTimeout + TimeSpan.FromSeconds(10), $"TimeoutStopSec={stop}");
        output.WriteLine($"LimitNOFILE={nofile}, TimeoutStopSec={stop.TotalSeconds}s, default drain_timeout={defaults.Shutdown.DrainTimeout.TotalSeconds}s");
    }

    [Fact]
    public void Unit_DirectoryModes_MatchTmpfiles()
    {
        // systemd only warns (and does not fix) when an existing StateDirectory/ConfigurationDirectory has another
        // mode than the unit asks for, so the unit and tmpfiles.d must agree.
        var unit = UnitFile.Load(RepoUnit);
        var tmpfiles = File.ReadLines(Path.Combine(fx.SystemdDir, "appliance.tmpfiles.conf"))
            .Where(l => l.StartsWith("d ", StringComparison.Ordinal) || l.StartsWith("d\t", StringComparison.Ordinal))
            .Select(l => l.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .ToDictionary(w => w[1], w => w[2]);

        Assert.Equal(unit.Get("Service", "StateDirectoryMode") ?? "0755", tmpfiles["/var/lib/appliance"]);
        Assert.Equal(unit.Get("Service", "ConfigurationDirectoryMode") ?? "0755", tmpfiles["/etc/appliance"]);
        Assert.Equal("/var/lib/appliance", unit.Get("Service", "WorkingDirectory"));
    }

    private static TimeSpan ParseSeconds(string value) =>
        value.EndsWith("min", StringComparison.Ordinal) ? TimeSpan.FromMinutes(double.Parse(value[..^3], CultureInfo.InvariantCulture))
        : TimeSpan.FromSeconds(double.Parse(value.TrimEnd('s'), CultureInfo.InvariantCulture));

    [GeneratedRegex(@"Overall exposure level for \S+: ([0-9.]+) \S+")]
    private static partial Regex OverallExposure();
}

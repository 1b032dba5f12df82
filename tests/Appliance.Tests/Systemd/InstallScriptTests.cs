using Xunit.Abstractions;

namespace Appliance.Tests.Systemd;

/// <summary>
/// systemd/install.sh and uninstall.sh against temporary roots: what goes where, with which modes and owners,
/// and the upgrade, rollback and removal paths the README describes.
/// </summary>
[Collection(SystemdCollection.Name)]
public sealed class InstallScriptTests(SystemdFixture fx, ITestOutputHelper output)
{
    private const UnixFileMode Mode0755 = (UnixFileMode)0x1ED;
    private const UnixFileMode Mode0750 = (UnixFileMode)0x1E8;
    private const UnixFileMode Mode0700 = (UnixFileMode)0x1C0;
    private const UnixFileMode Mode0644 = (UnixFileMode)0x1A4;
    private const UnixFileMode Mode0640 = (UnixFileMode)0x1A0;

    [Fact]
    public async Task Install_TempRoot_FilesModesAndOwners()
    {
        output.WriteLine($"install.sh --root (publishing) took {fx.InstallTime.TotalSeconds:0.0}s:\n{fx.InstallOutput}");
        var r = fx.Root;
        var (uid, gid) = (fx.ServiceUid, fx.ServiceGid);

        // The service user: a system account that cannot log in, at home in the state directory.
        var passwd = File.ReadLines(Path.Combine(r, "etc/passwd")).Single(l => l.StartsWith("appliance:", StringComparison.Ordinal)).Split(':');
        Assert.True(uid is > 0 and < 1000, $"uid {uid} is not a system uid");
        Assert.Equal("/var/lib/appliance", passwd[5]);
        Assert.EndsWith("nologin", passwd[6]);

        // The program: a release directory behind the 'current' link, owned by root, not writable by the service.
        var current = Path.Combine(r, "opt/appliance/current");
        var release = new FileInfo(current).LinkTarget;
        Assert.NotNull(release);
        Assert.StartsWith("releases/", release);
        AssertNode(Path.Combine(r, "opt/appliance/releases", Path.GetFileName(release)), Mode0755, 0, 0);
        AssertNode(Path.Combine(current, "appliance"), Mode0755, 0, 0);
        AssertNode(Path.Combine(current, "appliance.dll"), Mode0644, 0, 0);
        // Framework-dependent exactly when the shared runtimes are where the service's apphost looks.
        var runtimes = Directory.Exists("/usr/share/dotnet/shared/Microsoft.AspNetCore.App") &&
                       Directory.GetDirectories("/usr/share/dotnet/shared/Microsoft.AspNetCore.App", "10.*").Length > 0 &&
                       !File.Exists("/etc/dotnet/install_location") && !File.Exists("/etc/dotnet/install_location_x64");
        if (runtimes)
        {
            Assert.Contains("framework-dependent", await File.ReadAllTextAsync(Path.Combine(current, "RELEASE")));
        }
        Assert.True(File.Exists(Path.Combine(current, "README.md")));
        Assert.Equal("/opt/appliance/current/appliance", new FileInfo(Path.Combine(r, "usr/local/bin/appliance")).LinkTarget);
        var (code, version) = await SystemdFixture.RunAsync(Path.Combine(current, "appliance"), ["--version"]);
        Assert.True(code == 0, version);

        // The unit, enabled; the snippets systemd reads at boot.
        AssertNode(fx.InstalledUnitPath, Mode0644, 0, 0);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(fx.SystemdDir, "appliance.service")), await File.ReadAllTextAsync(fx.InstalledUnitPath));
        Assert.Equal("/etc/systemd/system/appliance.service", new FileInfo(Path.Combine(r, "etc/systemd/system/multi-user.target.wants/appliance.service")).LinkTarget);
        AssertNode(Path.Combine(r, "etc/sysusers.d/appliance.conf"), Mode0644, 0, 0);
        AssertNode(Path.Combine(r, "etc/tmpfiles.d/appliance.conf"), Mode0644, 0, 0);

        // Configuration readable by the service's group only; secrets and TLS keys reachable by the service user only.
        AssertNode(Path.Combine(r, "etc/appliance"), Mode0755, 0, 0);
        AssertNode(Path.Combine(r, "etc/appliance/appliance.yaml"), Mode0640, 0, gid);
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(fx.RepoRoot, "examples/appliance.yaml")), await File.ReadAllTextAsync(Path.Combine(r, "etc/appliance/appliance.yaml")));
        AssertNode(Path.Combine(r, "etc/appliance/appliance.yaml.example"), Mode0644, 0, 0);
        AssertNode(Path.Combine(r, "etc/appliance/secrets"), Mode0700, uid, gid);
        AssertNode(Path.Combine(r, "etc/appliance/tls"), Mode0700, uid, gid);
        AssertNode(Path.Combine(r, "var/lib/appliance"), Mode0750, uid, gid);
    }

    [Fact]
    public async Task Install_Again_KeepsOperatorConfig_SwitchesRelease_RollsBack()
    {
        var root = SystemdFixture.NewRoot("appliance-upgrade-");
        try
        {
            await InstallAsync(root);
            var first = ReleaseOf(root);
            var config = Path.Combine(root, "etc/appliance/appliance.yaml");
            await File.AppendAllTextAsync(config, "# the operator's own edit\n");
            var uid = SystemdFixture.PasswdId(root, "passwd", "appliance");

            var said = await InstallAsync(root);
            var second = ReleaseOf(root);

            Assert.NotEqual(first, second);
            Assert.True(string.CompareOrdinal(first, second) < 0, $"{first} should sort before {second}");
            Assert.EndsWith("# the operator's own edit\n", await File.ReadAllTextAsync(config));
            Assert.Contains("kept the existing /etc/appliance/appliance.yaml", said);
            Assert.Equal(uid, SystemdFixture.PasswdId(root, "passwd", "appliance"));
            Assert.Single(File.ReadLines(Path.Combine(root, "etc/passwd")), l => l.StartsWith("appliance:", StringComparison.Ordinal));

            var (code, rolledBack) = await SystemdFixture.RunAsync("bash", [fx.InstallScript, "--root", root, "--rollback"]);
            Assert.True(code == 0, rolledBack);
            Assert.Equal(first, ReleaseOf(root));

            // Nothing older than the first release: a clear refusal, and 'current' untouched.
            (code, rolledBack) = await SystemdFixture.RunAsync("bash", [fx.InstallScript, "--root", root, "--rollback"]);
            Assert.NotEqual(0, code);
            Assert.Contains("no release older than", rolledBack);
            Assert.Equal(first, ReleaseOf(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Install_ManyTimes_KeepsOnlyTheLastReleases()
    {
        var root = SystemdFixture.NewRoot("appliance-prune-");
        try
        {
            for (var i = 0; i < 4; i++)
            {
                await InstallAsync(root, "--keep", "2");
            }
            var releases = Directory.GetDirectories(Path.Combine(root, "opt/appliance/releases")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
            Assert.Equal(2, releases.Count);
            Assert.Equal(releases[^1], ReleaseOf(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Install_WithUseradd_CreatesTheSameUserAndOwners()
    {
        // The path for machines without systemd-sysusers.
        var root = SystemdFixture.NewRoot("appliance-useradd-");
        try
        {
            var said = await InstallAsync(root, "--user-tool", "useradd");

            var passwd = File.ReadLines(Path.Combine(root, "etc/passwd")).Single(l => l.StartsWith("appliance:", StringComparison.Ordinal)).Split(':');
            var uid = int.Parse(passwd[2], System.Globalization.CultureInfo.InvariantCulture);
            var gid = SystemdFixture.PasswdId(root, "group", "appliance");
            Assert.True(uid is > 0 and < 1000, said);
            Assert.Equal("/var/lib/appliance", passwd[5]);
            Assert.EndsWith("nologin", passwd[6]);
            AssertNode(Path.Combine(root, "var/lib/appliance"), Mode0750, uid, gid);
            AssertNode(Path.Combine(root, "etc/appliance/secrets"), Mode0700, uid, gid);
            AssertNode(Path.Combine(root, "etc/appliance/appliance.yaml"), Mode0640, 0, gid);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Uninstall_KeepsConfigStateAndUser_PurgeRemovesThem()
    {
        var root = SystemdFixture.NewRoot("appliance-uninstall-");
        try
        {
            await InstallAsync(root);
            var recording = Path.Combine(root, "var/lib/appliance/sessions.seg");
            await File.WriteAllTextAsync(recording, "recorded");

            var (code, said) = await SystemdFixture.RunAsync("bash", [Path.Combine(fx.SystemdDir, "uninstall.sh"), "--root", root]);
            output.WriteLine(said);
            Assert.True(code == 0, said);
            Assert.False(Directory.Exists(Path.Combine(root, "opt/appliance")));
            Assert.False(File.Exists(Path.Combine(root, "etc/systemd/system/appliance.service")));
            Assert.False(Path.Exists(Path.Combine(root, "etc/systemd/system/multi-user.target.wants/appliance.service")));
            Assert.False(File.Exists(Path.Combine(root, "etc/sysusers.d/appliance.conf")));
            Assert.False(File.Exists(Path.Combine(root, "etc/tmpfiles.d/appliance.conf")));
            Assert.False(Path.Exists(Path.Combine(root, "usr/local/bin/appliance")));
            Assert.True(File.Exists(Path.Combine(root, "etc/appliance/appliance.yaml")));
            Assert.Equal("recorded", await File.ReadAllTextAsync(recording));
            Assert.Contains(File.ReadLines(Path.Combine(root, "etc/passwd")), l => l.StartsWith("appliance:", StringComparison.Ordinal));

            (code, said) = await SystemdFixture.RunAsync("bash", [Path.Combine(fx.SystemdDir, "uninstall.sh"), "--root", root, "--purge"]);
            output.WriteLine(said);
            Assert.True(code == 0, said);
            Assert.False(Directory.Exists(Path.Combine(root, "etc/appliance")));
            Assert.False(Directory.Exists(Path.Combine(root, "var/lib/appliance")));
            Assert.DoesNotContain(File.ReadLines(Path.Combine(root, "etc/passwd")), l => l.StartsWith("appliance:", StringComparison.Ordinal));
            Assert.DoesNotContain(File.ReadLines(Path.Combine(root, "etc/group")), l => l.StartsWith("appliance:", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task Install_SelfContained_CarriesItsOwnRuntime()
    {
        // What a machine without the .NET runtime gets.
        var root = SystemdFixture.NewRoot("appliance-selfcontained-");
        try
        {
            var (code, said) = await SystemdFixture.RunAsync("bash", [fx.InstallScript, "--root", root, "--self-contained"], TimeSpan.FromMinutes(10));
            output.WriteLine(said);
            Assert.True(code == 0, said);
            var current = Path.Combine(root, "opt/appliance/current");
            Assert.True(File.Exists(Path.Combine(current, "libcoreclr.so")));
            Assert.Contains("self-contained", await File.ReadAllTextAsync(Path.Combine(current, "RELEASE")));
            // Pointing DOTNET_ROOT at nothing proves the shared runtime is not used.
            var info = new System.Diagnostics.ProcessStartInfo(Path.Combine(current, "appliance"), "--version") { RedirectStandardOutput = true, RedirectStandardError = true };
            info.Environment["DOTNET_ROOT"] = "/nonexistent";
            using var process = System.Diagnostics.Process.Start(info)!;
            var stdout = await process.StandardOutput.ReadToEndAsync();
            var stderr = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, stdout + stderr);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>Installs the fixture's already published build (no second publish); returns what the script said.</summary>
    private async Task<string> InstallAsync(string root, params string[] extra)
    {
        var (code, said) = await SystemdFixture.RunAsync("bash", [fx.InstallScript, "--root", root, "--from", fx.CurrentRelease, .. extra]);
        Assert.True(code == 0, said);
        return said;
    }

    private static string ReleaseOf(string root) => Path.GetFileName(new FileInfo(Path.Combine(root, "opt/appliance/current")).LinkTarget!);

    private static void AssertNode(string path, UnixFileMode mode, int uid, int gid)
    {
        Assert.True(Path.Exists(path), $"{path} is missing");
        var actual = File.GetUnixFileMode(path);
        Assert.True(actual == mode, $"{path}: mode {Convert.ToString((int)actual, 8)}, expected {Convert.ToString((int)mode, 8)}");
        var (owner, group) = Owner(path);
        Assert.True(owner == uid && group == gid, $"{path}: owned by {owner}:{group}, expected {uid}:{gid}");
    }

    private static (int Uid, int Gid) Owner(string path)
    {
        // `stat` keeps this free of P/Invoke struct layouts.
        var info = new System.Diagnostics.ProcessStartInfo("stat", ["-L", "-c", "%u %g", path]) { RedirectStandardOutput = true };
        using var process = System.Diagnostics.Process.Start(info)!;
        var words = process.StandardOutput.ReadToEnd().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        process.WaitForExit();
        return (int.Parse(words[0], System.Globalization.CultureInfo.InvariantCulture), int.Parse(words[1], System.Globalization.CultureInfo.InvariantCulture));
    }
}

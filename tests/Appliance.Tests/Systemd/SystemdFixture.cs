using System.Diagnostics;
using Appliance.Demo;

namespace Appliance.Tests.Systemd;

/// <summary>
/// What the systemd tests share: the gateway published and installed by <c>systemd/install.sh --root</c> into a
/// temporary root (the same script an operator runs), and a real PostgreSQL with the demo's upstream role, keys
/// and tokens (the demo's own in-process gateway is not used).
/// </summary>
public sealed class SystemdFixture : IAsyncLifetime
{
    public string RepoRoot { get; } = FindRepoRoot();
    public string Root { get; private set; } = "";
    public string InstallOutput { get; private set; } = "";
    public TimeSpan InstallTime { get; private set; }
    public int ServiceUid { get; private set; }
    public int ServiceGid { get; private set; }
    internal DemoEnvironment Env { get; private set; } = null!;
    internal UnitFile Unit { get; private set; } = null!;

    public string SystemdDir => Path.Combine(RepoRoot, "systemd");
    public string InstallScript => Path.Combine(SystemdDir, "install.sh");
    public string InstalledUnitPath => Path.Combine(Root, "etc/systemd/system/appliance.service");
    public string CurrentRelease => Path.Combine(Root, "opt/appliance/current");

    public async Task InitializeAsync()
    {
        Root = NewRoot("appliance-root-");
        var started = Stopwatch.StartNew();
        var (code, output) = await RunAsync("bash", [InstallScript, "--root", Root], TimeSpan.FromMinutes(10));
        InstallTime = started.Elapsed;
        InstallOutput = output;
        Assert.True(code == 0, $"install.sh --root failed ({code}):\n{output}");
        (ServiceUid, ServiceGid) = (PasswdId(Root, "passwd", "appliance"), PasswdId(Root, "group", "appliance"));
        Unit = UnitFile.Load(InstalledUnitPath);
        Env = await DemoEnvironment.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (Env is not null) await Env.DisposeAsync();
        if (Root.Length > 0) Directory.Delete(Root, recursive: true);
    }

    /// <summary>A new empty directory under /tmp that other users may traverse (the service runs as its own user).</summary>
    public static string NewRoot(string prefix)
    {
        var path = Directory.CreateTempSubdirectory(prefix).FullName;
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED); // 0755
        return path;
    }

    /// <summary>The numeric id of <paramref name="name"/> in <c>root/etc/passwd</c> or <c>root/etc/group</c>.</summary>
    public static int PasswdId(string root, string file, string name)
    {
        var line = File.ReadLines(Path.Combine(root, "etc", file)).FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.Ordinal));
        Assert.True(line is not null, $"{name} missing from {root}/etc/{file}");
        return int.Parse(line.Split(':')[2], System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Runs a program to its end (killing it after <paramref name="timeout"/>); stdout and stderr together.</summary>
    public static async Task<(int Code, string Output)> RunAsync(string program, IEnumerable<string> args, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) info.ArgumentList.Add(a);
        if (workingDirectory is not null) info.WorkingDirectory = workingDirectory;
        // The test host's MSBuild variables would steer a nested `dotnet publish` to the wrong SDK parts.
        foreach (var key in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase) || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            info.Environment.Remove(key);
        }
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in time:\n{await stdout}{await stderr}");
        }
        return (process.ExitCode, await stdout + await stderr);
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Appliance.sln")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"Appliance.sln not found above {AppContext.BaseDirectory}");
    }
}

[CollectionDefinition(Name)]
public sealed class SystemdCollection : ICollectionFixture<SystemdFixture>
{
    public const string Name = "systemd";
}

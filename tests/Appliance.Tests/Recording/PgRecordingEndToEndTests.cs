using System.Diagnostics;
using Appliance.Demo;

namespace Appliance.Tests.Recording;

/// <summary>A real psql session through the gateway, then the recording read back with the CLI an auditor uses.</summary>
public sealed class PgRecordingEndToEndTests
{
    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string program, IEnumerable<string> args, string? pgPassword = null)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        if (pgPassword is not null) info.Environment["PGPASSWORD"] = pgPassword;
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    private static Task<(int Code, string Stdout, string Stderr)> ApplianceAsync(params string[] args)
        => RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, "appliance.dll"), .. args]);

    [Fact]
    public async Task Session_StatementsDecisionsAndRows_AreRecordedAndShown()
    {
        await using var env = await DemoEnvironment.StartAsync();
        var libpq = $"host=localhost port={env.GatewayPort} dbname=orders user=ci sslmode=verify-full sslrootcert={env.CaPath}";
        var (code, _, stderr) = await RunAsync("psql", ["-X", "-A", "-t", libpq, "-c", "select name from customers where id = 2", "-c", "delete from orders"], env.Token("test"));
        Assert.Equal(1, code);
        Assert.Contains("statement refused", stderr);
        // Stopping the service drains the session and closes the store: everything acknowledged is on disk.
        await env.Host!.StopAsync();

        var list = await ApplianceAsync("sessions", "list", "--config", env.ConfigPath, "--json");
        Assert.True(list.Code == 0, list.Stderr);
        Assert.Contains("\"test\"", list.Stdout);
        Assert.Contains("\"orders\"", list.Stdout);
        var id = System.Text.RegularExpressions.Regex.Match(list.Stdout, "\"id\"\\s*:\\s*\"([0-9a-f-]{36})\"").Groups[1].Value;
        Assert.NotEmpty(id);

        var show = await ApplianceAsync("sessions", "show", id, "--config", env.ConfigPath);
        Assert.True(show.Code == 0, show.Stderr);
        Assert.Contains("select name from customers where id = 2", show.Stdout);
        Assert.Contains("Alan Turing", show.Stdout);
        Assert.Contains("delete from orders", show.Stdout);
        Assert.Contains("deny", show.Stdout);

        var verify = await ApplianceAsync("store", "verify", "--config", env.ConfigPath);
        Assert.True(verify.Code == 0, verify.Stdout + verify.Stderr);
    }
}

using System.CommandLine;
using Appliance.Demo;

namespace Appliance.Cli;

/// <summary><c>appliance demo</c>: the embedded default, a throwaway database behind the gateway.</summary>
internal static class DemoCommand
{
    public static Command Create()
    {
        var port = new Option<int>("--port") { Description = "Gateway port (default 6432; 0 picks a free one)", DefaultValueFactory = _ => 6432 };
        var selfTest = new Option<bool>("--self-test") { Description = "Run the printed commands once, report, and exit" };
        var command = new Command("demo", "Start a throwaway PostgreSQL, a demo token issuer and the gateway, and print commands to try") { port, selfTest };
        command.SetAction(async (parse, ct) =>
        {
            Console.WriteLine("Starting a throwaway PostgreSQL and the gateway…");
            await using var env = await DemoEnvironment.StartAsync(parse.GetValue(port), ct: ct);
            PrintCommands(env);
            if (parse.GetValue(selfTest))
            {
                return await SelfTestAsync(env, ct);
            }
            Console.WriteLine("Press Ctrl-C to stop; everything is removed on exit.");
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            catch (OperationCanceledException)
            {
            }
            Console.WriteLine("Stopping…");
            return 0;
        });
        return command;
    }

    private static string Psql(DemoEnvironment env, string principal, string sql) =>
        $"PGPASSWORD=\"$(cat {env.TokenPath(principal)})\" psql \"host=localhost port={env.GatewayPort} dbname=orders user=ci sslmode=verify-full sslrootcert={env.CaPath}\" -c \"{sql}\"";

    private static void PrintCommands(DemoEnvironment env)
    {
        Console.WriteLine($"""

            Gateway:   localhost:{env.GatewayPort} (target 'orders'), TLS CA at {env.CaPath}
            Database:  PostgreSQL on 127.0.0.1:{env.Postgres.Port}; the gateway logs in as '{DemoEnvironment.UpstreamUser}', whose password jobs never see
            Config:    {env.ConfigPath}
            Tokens:    {Path.GetDirectoryName(env.TokenPath("test"))}/(test|deploy|dba|outsider).jwt (signed by the demo issuer, valid 1h)

            Try:
              # a CI job with the 'test' role
              {Psql(env, "test", "select id, name from customers")}

              # masked for 'test' (card_number partial, email hashed), clear for 'dba'
              {Psql(env, "test", "select name, email, card_number from customers")}
              {Psql(env, "dba", "select name, email, card_number from customers")}

              # a token whose claims map to no role on this target is refused at login
              {Psql(env, "outsider", "select 1")}

              # DDL by the 'deploy' role waits for a DBA: psql prints a NOTICE with the request id and waits
              {Psql(env, "deploy", "create table release_notes (id int)")}
              # ...while a reviewer, in another terminal, lists and approves it (or denies with --reason)
              appliance approvals list --config {env.ConfigPath} --token-file {env.TokenPath("dba")}
              appliance approvals approve ID --config {env.ConfigPath} --token-file {env.TokenPath("dba")}

              # anything that is not a valid token is refused with the reason
              PGPASSWORD=not-a-token psql "host=localhost port={env.GatewayPort} dbname=orders user=ci sslmode=verify-full sslrootcert={env.CaPath}" -c "select 1"

            """);
    }

    private static async Task<int> SelfTestAsync(DemoEnvironment env, CancellationToken ct)
    {
        var checks = new (string Principal, string Sql, string Expect, bool ShouldSucceed)[]
        {
            ("test", "select name from customers order by id limit 1", "Ada Lovelace", true),
            ("test", "select card_number, upper(email) from customers order by id limit 1", "************1111|****", true),
            ("dba", "select card_number from customers order by id limit 1", "4111111111111111", true),
            ("outsider", "select 1", "has no role allowed on target", false),
        };
        int failures = 0;
        foreach (var (principal, sql, expect, shouldSucceed) in checks)
        {
            var info = new System.Diagnostics.ProcessStartInfo("psql")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                ArgumentList = { "-X", "-A", "-t", $"host=localhost port={env.GatewayPort} dbname=orders user=ci sslmode=verify-full sslrootcert={env.CaPath}", "-c", sql },
                Environment = { ["PGPASSWORD"] = env.Token(principal) },
            };
            var (code, output) = await PostgresProcess.RunCapturedAsync(info, ct);
            bool ok = (code == 0) == shouldSucceed && output.Contains(expect, StringComparison.Ordinal);
            Console.WriteLine($"{(ok ? "ok  " : "FAIL")} {principal}: {sql} → {output.Trim()}");
            failures += ok ? 0 : 1;
        }
        failures += await SelfTestApprovalAsync(env, ct) ? 0 : 1;
        return failures == 0 ? 0 : 1;
    }

    /// <summary>A DDL by deploy waits for approval; the self-test approves it as dba over the admin API, then it runs.</summary>
    private static async Task<bool> SelfTestApprovalAsync(DemoEnvironment env, CancellationToken ct)
    {
        const string sql = "create table self_test_approval (id int)";
        var info = new System.Diagnostics.ProcessStartInfo("psql")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            ArgumentList = { "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", $"host=localhost port={env.GatewayPort} dbname=orders user=ci sslmode=verify-full sslrootcert={env.CaPath}", "-c", sql },
            Environment = { ["PGPASSWORD"] = env.Token("deploy") },
        };
        using var psql = System.Diagnostics.Process.Start(info)!;
        var noticed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new System.Text.StringBuilder();
        psql.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
            var m = System.Text.RegularExpressions.Regex.Match(e.Data, "approval required: request ([0-9a-f]{16})");
            if (m.Success) noticed.TrySetResult(m.Groups[1].Value);
        };
        psql.BeginErrorReadLine();
        var stdout = psql.StandardOutput.ReadToEndAsync(ct);
        bool ok = false;
        string detail;
        try
        {
            var id = await noticed.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{env.AdminPort}") };
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/approvals/{id}/approve") { Content = new StringContent("{\"reason\":\"self-test\"}", System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", env.Token("dba"));
            using var response = await http.SendAsync(request, ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            await psql.WaitForExitAsync(timeout.Token);
            await stdout;
            ok = response.IsSuccessStatusCode && psql.ExitCode == 0;
            detail = $"request {id} approved by dba over the admin API (HTTP {(int)response.StatusCode}); psql exit {psql.ExitCode}";
        }
        catch (TimeoutException)
        {
            detail = "no approval NOTICE within 30s";
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            detail = "psql did not finish within 30s of the approval";
        }
        finally
        {
            if (!psql.HasExited) psql.Kill();
        }
        if (!ok)
        {
            lock (stderr) detail += " | " + stderr.ToString().Trim();
        }
        Console.WriteLine($"{(ok ? "ok  " : "FAIL")} deploy: {sql} → waits for approval; {detail}");
        return ok;
    }
}

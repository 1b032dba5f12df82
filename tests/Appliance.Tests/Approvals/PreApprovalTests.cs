using System.CommandLine;
using Npgsql;

namespace Appliance.Tests.Approvals;

/// <summary>Pre-approval for CI, end to end: by statement fingerprint and by claim value, until used up.</summary>
[Collection(ApprovalsCollection.Name)]
public sealed class PreApprovalTests(ApprovalsFixture fx)
{
    private static async Task<(int Code, string Output, string Error)> CliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await Program.CreateRootCommand().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    private Task<string> CommentAsync(string table) => fx.DirectAsync($"select coalesce(obj_description('public.{table}'::regclass, 'pg_class'), '<none>')");

    [Fact]
    public async Task Psql_PreApprovedByFingerprint_RunsAtOnceThenUsedUpWaitsAgain()
    {
        var table = $"pre_fp_{Guid.NewGuid():N}"[..24];
        await fx.DirectAsync($"create table {table} (id int); alter table {table} owner to {Demo.DemoEnvironment.UpstreamUser}");
        // The reviewer pre-approves the statement as written in the pipeline; case, spacing and literals may differ.
        var (code, output, error) = await CliAsync("approvals", "pre-approve", "--target", "orders", "--sql", $"COMMENT ON TABLE {table} IS 'anything'",
            "--uses", "1", "--ttl", "10m", "--reason", "release 42", "--config", fx.Env.ConfigPath, "--token-file", fx.Env.TokenPath("dba"));
        Assert.True(code == 0, error);
        Assert.Contains("1 use(s)", output);

        var (exit, _, stderr) = await Postgres.GatewayFixture.RunAsync("psql", fx.Env.Token("deploy"), "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", fx.Libpq(),
            "-c", $"comment   on table {table} is 'first'");
        Assert.True(exit == 0, stderr);
        Assert.Contains("is pre-approved by dba", stderr);
        Assert.Equal("first", await CommentAsync(table));

        // Used up: the same fingerprint now waits for a reviewer like any other request.
        using var psql = new StreamingPsql(fx.Env.Token("deploy"), fx.Libpq(), $"comment on table {table} is 'second'");
        var notice = await psql.WaitForStderrAsync(@"approval required: request ([0-9a-f]{16})");
        Assert.Equal("first", await CommentAsync(table));
        Assert.Equal(200, (await fx.DenyAsync(notice.Groups[1].Value, fx.Env.Token("dba"), "pre-approval was for one run")).Status);
        var (secondExit, _, secondErr) = await psql.ExitAsync();
        Assert.NotEqual(0, secondExit);
        Assert.Contains("pre-approval was for one run", secondErr);
        Assert.Equal("first", await CommentAsync(table));

        var (listCode, list, _) = await CliAsync("approvals", "pre-list", "--config", fx.Env.ConfigPath, "--token-file", fx.Env.TokenPath("dba"));
        Assert.Equal(0, listCode);
        Assert.Contains("used 1/1", list);
    }

    [Fact]
    public async Task Npgsql_PreApprovedByClaim_OnlyThatRunAndOnlyAsManyUses()
    {
        var table = $"pre_claim_{Guid.NewGuid():N}"[..26];
        await fx.DirectAsync($"create table {table} (id int); alter table {table} owner to {Demo.DemoEnvironment.UpstreamUser}");
        var runId = Guid.NewGuid().ToString("N");
        var (status, body) = await fx.ApiAsync(HttpMethod.Post, "/v1/approvals/pre", fx.Env.Token("dba"),
            new { target = "orders", claim = $"run_id={runId}", uses = 2, ttl = "10m", reason = "deploy button" });
        Assert.True(status == 201, body?.ToJsonString());

        var pipeline = fx.TokenFor("pipeline", "deploy", ("run_id", runId));
        await using (var conn = fx.Npgsql(pipeline))
        {
            await conn.OpenAsync();
            var notices = new NoticeWaiter(conn);
            await new NpgsqlCommand($"comment on table {table} is 'one'", conn).ExecuteNonQueryAsync();
            await new NpgsqlCommand($"alter table {table} add column two int", conn).ExecuteNonQueryAsync();
            Assert.All(notices.Notices, n => Assert.Contains("pre-approved", n));
            Assert.Equal(2, notices.Notices.Count);
        }
        Assert.Equal("one", await CommentAsync(table));
        Assert.Equal("1", await fx.DirectAsync($"select count(*) from information_schema.columns where table_name = '{table}' and column_name = 'two'"));

        // Another run's job is not covered, and the run's own third statement waits: the pre-approval is used up.
        foreach (var token in new[] { fx.TokenFor("pipeline", "deploy", ("run_id", "some-other-run")), pipeline })
        {
            await using var conn = fx.Npgsql(token);
            await conn.OpenAsync();
            var notices = new NoticeWaiter(conn);
            var run = new NpgsqlCommand($"comment on table {table} is 'three'", conn).ExecuteNonQueryAsync();
            var id = await notices.RequestIdAsync();
            Assert.Contains("approval required", notices.Notices[0]);
            Assert.Equal("one", await CommentAsync(table));
            Assert.Equal(200, (await fx.DenyAsync(id, fx.Env.Token("dba"), "not covered")).Status);
            await Assert.ThrowsAsync<PostgresException>(() => run);
        }
        Assert.Equal("one", await CommentAsync(table));
    }

    [Fact]
    public async Task Api_PreApprovalBadInput_ClearErrors()
    {
        var dba = fx.Env.Token("dba");
        Assert.Equal(400, (await fx.ApiAsync(HttpMethod.Post, "/v1/approvals/pre", dba, new { target = "orders", uses = 1 })).Status);
        Assert.Equal(404, (await fx.ApiAsync(HttpMethod.Post, "/v1/approvals/pre", dba, new { target = "nosuch", sql = "drop table x" })).Status);
        var (status, body) = await fx.ApiAsync(HttpMethod.Post, "/v1/approvals/pre", dba, new { target = "orders", sql = "drop table x", uses = 100000 });
        Assert.Equal(400, status);
        Assert.Contains("uses must be from 1 to", (string?)body!["error"]);
        (status, body) = await fx.ApiAsync(HttpMethod.Post, "/v1/approvals/pre", dba, new { target = "orders", fingerprint = "abc" });
        Assert.Equal(400, status);
        Assert.Contains("64 hex digits", (string?)body!["error"]);
        (status, _) = await fx.ApiAsync(HttpMethod.Post, "/v1/approvals/pre", fx.Env.Token("deploy"), new { target = "orders", sql = "drop table x" });
        Assert.Equal(403, status);
    }
}

using System.CommandLine;
using System.Text.RegularExpressions;
using Npgsql;

namespace Appliance.Tests.Approvals;

/// <summary>
/// Just-in-time approval end to end, with psql and Npgsql through the gateway to a real PostgreSQL: the held
/// statement runs only once approved, and is checked on the database directly before and after.
/// </summary>
[Collection(ApprovalsCollection.Name)]
public sealed class ApprovalEndToEndTests(ApprovalsFixture fx)
{
    private static string Table(string prefix) => $"{prefix}_{Guid.NewGuid():N}"[..30];

    private async Task<(int Code, string Output, string Error)> CliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await Program.CreateRootCommand().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Psql_ApprovedWithCliDuringWait_NoticeFirstThenStatementRuns()
    {
        var table = Table("appr_psql");
        using var psql = new StreamingPsql(fx.Env.Token("deploy"), fx.Libpq(), $"create table {table} (id int)");
        var notice = await psql.WaitForStderrAsync(@"NOTICE:  approval required: request ([0-9a-f]{16}).*");
        string id = notice.Groups[1].Value;
        Assert.Contains("\"deploy\" asks to run ddl on target \"orders\"", notice.Value);
        Assert.Contains($"appliance approvals approve {id}", notice.Value);

        // Waiting: nothing ran, psql is still waiting, and the request is listed for reviewers.
        Assert.False(await fx.TableExistsAsync(table));
        Assert.False(psql.HasExited);
        var (listCode, list, _) = await CliAsync("approvals", "list", "--config", fx.Env.ConfigPath, "--token-file", fx.Env.TokenPath("dba"), "--state", "pending");
        Assert.Equal(0, listCode);
        Assert.Contains(id, list);
        Assert.Contains($"create table {table}", list);

        var (code, output, error) = await CliAsync("approvals", "approve", id, "--config", fx.Env.ConfigPath, "--token-file", fx.Env.TokenPath("dba"), "--reason", "looks fine");
        Assert.True(code == 0, error);
        Assert.Contains($"{id}: approved", output);

        var (exit, _, stderr) = await psql.ExitAsync();
        Assert.True(exit == 0, stderr);
        Assert.True(await fx.TableExistsAsync(table));
        var request = await fx.WaitForStateAsync(id, "approved", r => (bool?)r["executed"] == true);
        Assert.Equal("dba", (string?)request["approvals"]![0]!["subject"]);
        Assert.Equal("looks fine", (string?)request["approvals"]![0]!["reason"]);

        var (showCode, show, _) = await CliAsync("approvals", "show", id, "--config", fx.Env.ConfigPath, "--token-file", fx.Env.TokenPath("dba"));
        Assert.Equal(0, showCode);
        Assert.Contains("approved by dba", show);
        var (jsonCode, json, _) = await CliAsync("approvals", "show", id, "--json", "--config", fx.Env.ConfigPath, "--token-file", fx.Env.TokenPath("dba"));
        Assert.Equal(0, jsonCode);
        var parsed = System.Text.Json.Nodes.JsonNode.Parse(json)!;
        Assert.Equal((id, "approved", "deploy"), ((string?)parsed["id"], (string?)parsed["state"], (string?)parsed["requester"]));

        // A reviewer token file that does not exist is one clear line and a non-zero exit.
        var (missingCode, _, missing) = await CliAsync("approvals", "list", "--config", fx.Env.ConfigPath, "--token-file", "/nonexistent/token");
        Assert.Equal(2, missingCode);
        Assert.Contains("token file '/nonexistent/token' does not exist", missing);
    }

    [Fact]
    public async Task Npgsql_Denied_Fails42501WithReasonAndSessionStaysUsable()
    {
        var table = Table("appr_deny");
        await using var conn = fx.Npgsql(fx.Env.Token("deploy"));
        await conn.OpenAsync();
        var notices = new NoticeWaiter(conn);
        await using var cmd = new NpgsqlCommand($"create table {table} (id int)", conn);
        var run = cmd.ExecuteNonQueryAsync();
        string id = await notices.RequestIdAsync();
        Assert.False(run.IsCompleted);
        Assert.False(await fx.TableExistsAsync(table));

        var (status, _) = await fx.DenyAsync(id, fx.Env.Token("dba"), "not during the freeze");
        Assert.Equal(200, status);
        var error = await Assert.ThrowsAsync<PostgresException>(() => run);
        Assert.Equal("42501", error.SqlState);
        Assert.Contains("denied by dba: not during the freeze", error.MessageText);
        Assert.False(await fx.TableExistsAsync(table));

        await using var next = new NpgsqlCommand("select count(*) from customers", conn);
        Assert.Equal(3L, await next.ExecuteScalarAsync());
        var request = await fx.RequestAsync(id);
        Assert.Equal("denied", (string?)request["state"]);
        Assert.Equal("not during the freeze", (string?)request["denial"]!["reason"]);
        Assert.NotEqual(true, (bool?)request["executed"]);

        // The session's own log names the request, in the session's scope, so the two logs can be followed together.
        var held = Assert.Single(fx.Logs.Lines, l => l.EndsWith($"statement held for approval request {id}", StringComparison.Ordinal));
        var scope = Regex.Match(held, @"session \d+ from 127\.0\.0\.1:\d+ => ");
        Assert.True(scope.Success, held);
        Assert.Single(fx.Logs.Lines, l => l.Contains(scope.Value + $"approval request {id} not approved: ", StringComparison.Ordinal)
            && l.Contains("not during the freeze", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Npgsql_NobodyDecides_FailsSayingItExpired()
    {
        var table = Table("appr_exp");
        await using var conn = fx.Npgsql(fx.Env.Token("deploy"), "quick");
        await conn.OpenAsync();
        var notices = new NoticeWaiter(conn);
        await using var cmd = new NpgsqlCommand($"create table {table} (id int)", conn);
        var error = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());
        Assert.Equal("42501", error.SqlState);
        Assert.Contains("expired: no decision within 2s", error.MessageText);
        string id = await notices.RequestIdAsync();
        Assert.Equal("expired", (string?)(await fx.RequestAsync(id))["state"]);
        Assert.False(await fx.TableExistsAsync(table));
        // A late approval is refused: the request is over.
        var (status, body) = await fx.ApproveAsync(id, fx.Env.Token("dba"));
        Assert.Equal(409, status);
        Assert.Contains("already expired", (string?)body!["error"]);
        Assert.False(await fx.TableExistsAsync(table));
    }

    [Fact]
    public async Task Npgsql_RequesterWithApproverRole_CannotApproveOwnRequest()
    {
        var table = Table("appr_self");
        // This principal is both a deployer and a dba: it may approve others' requests, never its own.
        var both = fx.TokenFor("deploy-and-dba", "deploy", ("groups", new[] { "dba" }));
        await using var conn = fx.Npgsql(both);
        await conn.OpenAsync();
        var notices = new NoticeWaiter(conn);
        await using var cmd = new NpgsqlCommand($"create table {table} (id int)", conn);
        var run = cmd.ExecuteNonQueryAsync();
        string id = await notices.RequestIdAsync();

        var (status, body) = await fx.ApproveAsync(id, both, "trust me");
        Assert.Equal(403, status);
        Assert.Contains("cannot approve their own request", (string?)body!["error"]);
        Assert.Equal("pending", (string?)(await fx.RequestAsync(id))["state"]);
        Assert.False(await fx.TableExistsAsync(table));

        Assert.Equal(200, (await fx.DenyAsync(id, fx.Env.Token("dba"), "self-approval attempt")).Status);
        await Assert.ThrowsAsync<PostgresException>(() => run);
        Assert.False(await fx.TableExistsAsync(table));
    }

    [Fact]
    public async Task Npgsql_QuorumOfTwo_RunsOnlyAfterTheSecondDistinctApprover()
    {
        var table = Table("appr_q");
        await using var conn = fx.Npgsql(fx.Env.Token("deploy"), "quorum");
        await conn.OpenAsync();
        var notices = new NoticeWaiter(conn);
        await using var cmd = new NpgsqlCommand($"create table {table} (id int)", conn);
        var run = cmd.ExecuteNonQueryAsync();
        string id = await notices.RequestIdAsync();
        Assert.Contains("needs 2 more approval(s)", await notices.TextAsync());

        var first = fx.Env.Token("dba");
        var (status, body) = await fx.ApproveAsync(id, first);
        Assert.Equal(200, status);
        Assert.Contains("1 more needed", (string?)body!["status"]);
        Assert.Equal("pending", (string?)(await fx.RequestAsync(id))["state"]);
        Assert.False(run.IsCompleted);
        Assert.False(await fx.TableExistsAsync(table));

        // The same reviewer twice is not two approvers.
        (status, body) = await fx.ApproveAsync(id, first);
        Assert.Equal(409, status);
        Assert.Contains("distinct reviewers", (string?)body!["error"]);
        Assert.False(await fx.TableExistsAsync(table));

        (status, _) = await fx.ApproveAsync(id, fx.TokenFor("second-dba", "dba"));
        Assert.Equal(200, status);
        await run;
        Assert.True(await fx.TableExistsAsync(table));
        var request = await fx.WaitForStateAsync(id, "approved", r => (bool?)r["executed"] == true);
        Assert.Equal(["dba", "second-dba"], request["approvals"]!.AsArray().Select(a => (string?)a!["subject"]));
    }

    [Fact]
    public async Task Npgsql_ExtendedBatch_HeldAtExecuteLaterMessagesWaitInOrderOtherSessionsRun()
    {
        var table = Table("appr_ext");
        await using var conn = fx.Npgsql(fx.Env.Token("deploy"));
        await conn.OpenAsync();
        var notices = new NoticeWaiter(conn);
        await using var batch = new NpgsqlBatch(conn)
        {
            BatchCommands =
            {
                new($"create table {table} (id int)"),
                new($"insert into {table} values (1)"),
                new($"select count(*) from {table}"),
            },
        };
        // The insert cannot even be parsed before the table exists: it waits behind the held Execute.
        var run = batch.ExecuteScalarAsync();
        string id = await notices.RequestIdAsync();
        Assert.False(await fx.TableExistsAsync(table));

        // Another session is not blocked by the held one.
        await using (var other = fx.Npgsql(fx.Env.Token("deploy")))
        {
            await other.OpenAsync();
            await using var select = new NpgsqlCommand("select count(*) from customers", other);
            Assert.Equal(3L, await select.ExecuteScalarAsync());
        }
        Assert.False(run.IsCompleted);

        Assert.Equal(200, (await fx.ApproveAsync(id, fx.Env.Token("dba"))).Status);
        Assert.Equal(1L, await run);
        Assert.Equal("1", await fx.DirectAsync($"select count(*) from {table}"));
    }

    [Fact]
    public async Task Npgsql_PreparedDdl_DecidedAtParseHeldAtEveryExecute()
    {
        var table = Table("appr_prep");
        await using var conn = fx.Npgsql(fx.Env.Token("deploy"));
        await conn.OpenAsync();
        var notices = new NoticeWaiter(conn);
        await using var cmd = new NpgsqlCommand($"create table if not exists {table} (id int)", conn);
        await cmd.PrepareAsync();
        Assert.Empty(notices.Notices);
        var run = cmd.ExecuteNonQueryAsync();
        string id = await notices.RequestIdAsync();
        Assert.False(await fx.TableExistsAsync(table));
        Assert.Equal(200, (await fx.ApproveAsync(id, fx.Env.Token("dba"))).Status);
        await run;
        Assert.True(await fx.TableExistsAsync(table));
        // The approval was for one execution: running the prepared statement again asks again.
        var again = cmd.ExecuteNonQueryAsync();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (notices.Notices.Count < 2 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(2, notices.Notices.Count);
        var second = Regex.Match(notices.Notices[1], "request ([0-9a-f]{16})").Groups[1].Value;
        Assert.NotEqual(id, second);
        Assert.Equal(200, (await fx.DenyAsync(second, fx.Env.Token("dba"), "once is enough")).Status);
        var error = await Assert.ThrowsAsync<PostgresException>(() => again);
        Assert.Contains("once is enough", error.MessageText);
    }

    [Fact]
    public async Task Npgsql_CancelWhileWaiting_RequestCanceledNothingRunsSessionUsable()
    {
        var table = Table("appr_cancel");
        await using var conn = fx.Npgsql(fx.Env.Token("deploy"));
        await conn.OpenAsync();
        var notices = new NoticeWaiter(conn);
        await using var cmd = new NpgsqlCommand($"create table {table} (id int)", conn);
        var run = cmd.ExecuteNonQueryAsync();
        string id = await notices.RequestIdAsync();
        cmd.Cancel(); // a CancelRequest on a new connection, as psql sends on Ctrl-C
        // Npgsql reports a server's 57014 after its own cancel as OperationCanceledException.
        var canceled = await Assert.ThrowsAsync<OperationCanceledException>(() => run);
        var error = Assert.IsType<PostgresException>(canceled.InnerException);
        Assert.Equal("57014", error.SqlState);
        Assert.Contains("waiting for approval", error.MessageText);
        var request = await fx.WaitForStateAsync(id, "canceled");
        Assert.NotEqual(true, (bool?)request["executed"]);
        Assert.False(await fx.TableExistsAsync(table));
        await using var next = new NpgsqlCommand("select 1", conn);
        Assert.Equal(1, await next.ExecuteScalarAsync());
        Assert.Equal(409, (await fx.ApproveAsync(id, fx.Env.Token("dba"))).Status);
        Assert.False(await fx.TableExistsAsync(table));
    }

    [Fact]
    public async Task Psql_KilledWhileWaiting_RequestOrphanedAndNeverRuns()
    {
        var table = Table("appr_gone");
        string id;
        using (var psql = new StreamingPsql(fx.Env.Token("deploy"), fx.Libpq(), $"create table {table} (id int)"))
        {
            id = (await psql.WaitForStderrAsync(@"approval required: request ([0-9a-f]{16})")).Groups[1].Value;
        } // kills psql: its connection closes while the statement waits
        var request = await fx.WaitForStateAsync(id, "orphaned");
        Assert.Contains("session ended", (string?)request["detail"]);
        Assert.Equal(409, (await fx.ApproveAsync(id, fx.Env.Token("dba"))).Status);
        Assert.False(await fx.TableExistsAsync(table));
    }

    [Fact]
    public async Task Npgsql_PerPrincipalLimit_FurtherRequestsRefusedClearly()
    {
        var token = fx.TokenFor("busy-deployer", "deploy");
        var connections = new List<NpgsqlConnection>();
        var runs = new List<Task<int>>();
        var ids = new List<string>();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                var conn = fx.Npgsql(token);
                connections.Add(conn);
                await conn.OpenAsync();
                var notices = new NoticeWaiter(conn);
                runs.Add(new NpgsqlCommand($"create table {Table("appr_lim")} (id int)", conn).ExecuteNonQueryAsync());
                ids.Add(await notices.RequestIdAsync());
            }
            var extra = fx.Npgsql(token);
            connections.Add(extra);
            await extra.OpenAsync();
            var table = Table("appr_lim4");
            var error = await Assert.ThrowsAsync<PostgresException>(() => new NpgsqlCommand($"create table {table} (id int)", extra).ExecuteNonQueryAsync());
            Assert.Equal("42501", error.SqlState);
            Assert.Contains("already has 3 approval requests pending (limit 3)", error.MessageText);
            Assert.False(await fx.TableExistsAsync(table));
        }
        finally
        {
            foreach (var id in ids) await fx.DenyAsync(id, fx.Env.Token("dba"), "cleanup");
            foreach (var run in runs) await Assert.ThrowsAsync<PostgresException>(() => run);
            foreach (var c in connections) await c.DisposeAsync();
        }
    }
}

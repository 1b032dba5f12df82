using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Npgsql;

namespace Appliance.Tests.Approvals;

/// <summary>The admin API's approvals endpoints on bad input, the webhook, and a restart while a request waits.</summary>
[Collection(ApprovalsCollection.Name)]
public sealed class ApprovalApiTests(ApprovalsFixture fx)
{
    /// <summary>Starts a held DDL as deploy; returns the connection, the running command and the request id.</summary>
    private async Task<(NpgsqlConnection Conn, Task<int> Run, string Id, string Table)> HoldAsync(string database = "orders")
    {
        var table = $"api_{Guid.NewGuid():N}"[..24];
        var conn = fx.Npgsql(fx.Env.Token("deploy"), database);
        await conn.OpenAsync();
        var notices = new NoticeWaiter(conn);
        var run = new NpgsqlCommand($"create table {table} (id int)", conn).ExecuteNonQueryAsync();
        return (conn, run, await notices.RequestIdAsync(), table);
    }

    [Fact]
    public async Task Api_BadInput_ClearJsonErrorsAndTheStatementNeverRuns()
    {
        var (conn, run, id, table) = await HoldAsync();
        await using (conn)
        {
            var dba = fx.Env.Token("dba");
            var cases = new (string What, Task<(int Status, JsonNode? Body)> Call, int Status, string Error)[]
            {
                ("no token", fx.ApiAsync(HttpMethod.Post, $"/v1/approvals/{id}/approve", null, new { }), 401, "bearer token is required"),
                ("invalid token", fx.ApiAsync(HttpMethod.Post, $"/v1/approvals/{id}/approve", "not.a.jwt", new { }), 401, "token rejected"),
                ("wrong role", fx.ApiAsync(HttpMethod.Post, $"/v1/approvals/{id}/approve", fx.Env.Token("test"), new { }), 403, "no approver role"),
                ("list with wrong role", fx.ApiAsync(HttpMethod.Get, "/v1/approvals", fx.Env.Token("deploy")), 403, "no approver role"),
                ("unknown id", fx.ApiAsync(HttpMethod.Post, "/v1/approvals/0123456789abcdef/approve", dba, new { }), 404, "no approval request"),
                ("unknown id (get)", fx.ApiAsync(HttpMethod.Get, "/v1/approvals/nosuch", dba), 404, "no approval request"),
                ("oversized reason", fx.ApiAsync(HttpMethod.Post, $"/v1/approvals/{id}/deny", dba, new { reason = new string('x', 1001) }), 400, "reason is too long"),
                ("deny without reason", fx.ApiAsync(HttpMethod.Post, $"/v1/approvals/{id}/deny", dba, new { }), 400, "reason is required"),
                ("invalid JSON", fx.ApiAsync(HttpMethod.Post, $"/v1/approvals/{id}/approve", dba, rawBody: "{\"reason\": "), 400, "invalid JSON"),
                ("unknown field", fx.ApiAsync(HttpMethod.Post, $"/v1/approvals/{id}/approve", dba, rawBody: "{\"reasn\": \"x\"}"), 400, "invalid JSON"),
                ("huge body", fx.ApiAsync(HttpMethod.Post, $"/v1/approvals/{id}/approve", dba, rawBody: "{\"reason\": \"" + new string('y', 20000) + "\"}"), 413, "too large"),
                ("bad state filter", fx.ApiAsync(HttpMethod.Get, "/v1/approvals?state=nope", dba), 400, "unknown state"),
            };
            foreach (var (what, call, status, error) in cases)
            {
                var (got, body) = await call;
                Assert.True(got == status, $"{what}: HTTP {got} {body?.ToJsonString()}");
                Assert.True(((string?)body?["error"])?.Contains(error, StringComparison.Ordinal) == true, $"{what}: {body?.ToJsonString()}");
            }
            Assert.Equal("pending", (string?)(await fx.RequestAsync(id))["state"]);
            Assert.False(await fx.TableExistsAsync(table));

            // A decision, then a second one: conflict, and the first decision stands.
            Assert.Equal(200, (await fx.DenyAsync(id, dba, "no")).Status);
            var (again, againBody) = await fx.ApproveAsync(id, fx.TokenFor("other-dba", "dba"));
            Assert.Equal(409, again);
            Assert.Contains("already denied", (string?)againBody!["error"]);
            await Assert.ThrowsAsync<PostgresException>(() => run);
            Assert.False(await fx.TableExistsAsync(table));
        }
    }

    [Fact]
    public async Task Webhook_FailsTwiceThenAccepts_SignedRetriedAndMarkedNotified()
    {
        var (conn, run, id, table) = await HoldAsync();
        await using (conn)
        {
            // Retried with backoff until the receiver accepts; observed on the request, never by sleeping.
            var request = await fx.WaitForStateAsync(id, "pending", r => (bool?)r["notified"] == true);
            var deliveries = fx.Webhook.Deliveries.Where(d => d.Id == id).OrderBy(d => d.Attempt).ToList();
            Assert.Equal([503, 503, 200], deliveries.Select(d => d.Status));
            foreach (var d in deliveries)
            {
                var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(ApprovalsFixture.WebhookSecret), d.Body));
                Assert.Equal(expected, d.Signature);
                var json = JsonNode.Parse(d.Body)!;
                Assert.Equal(id, (string?)json["id"]);
                Assert.Equal("deploy", (string?)json["requester"]);
                Assert.Equal($"appliance approvals approve {id}", (string?)json["approve_command"]);
                Assert.Contains($"create table {table}", (string?)json["statement"]);
            }
            // The session went on waiting the whole time; the webhook never decides anything.
            Assert.False(run.IsCompleted);
            Assert.False(await fx.TableExistsAsync(table));
            Assert.Equal("pending", (string?)request["state"]);
            Assert.Equal(200, (await fx.DenyAsync(id, fx.Env.Token("dba"), "webhook test")).Status);
            await Assert.ThrowsAsync<PostgresException>(() => run);
        }
    }

    [Fact]
    public async Task Restart_WhilePending_RequestIsKeptAsOrphanedAndNothingRuns()
    {
        var (conn, run, id, table) = await HoldAsync();
        var approvalsDir = Path.Combine(fx.Env.Config.StateDir, "approvals");
        // What a crash leaves on disk: the request, still pending.
        var crashImage = Directory.CreateTempSubdirectory("approvals-crash-").FullName;
        try
        {
            foreach (var file in Directory.GetFiles(approvalsDir, "*.json")) File.Copy(file, Path.Combine(crashImage, Path.GetFileName(file)));
            Assert.Contains("\"state\":\"pending\"", File.ReadAllText(Path.Combine(crashImage, $"req-{id}.json")));
            var afterCrash = new Appliance.Approvals.ApprovalQueue(new Appliance.Configuration.ApprovalsConfig { Dir = crashImage }, crashImage, TimeProvider.System,
                Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            var orphan = afterCrash.Snapshot(id)!;
            Assert.Equal(Appliance.Approvals.ApprovalState.Orphaned, orphan.State);
            Assert.Contains("restarted", orphan.Detail);
            afterCrash.Dispose();
        }
        finally
        {
            Directory.Delete(crashImage, recursive: true);
        }

        // A real restart: the session is ended, the request stays listed as orphaned, and a late approval is refused.
        var restart = fx.Env.RestartGatewayAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(() => run);
        Assert.Equal("42501", error.SqlState);
        Assert.Contains("the gateway stopped while the request waited", error.MessageText);
        await conn.DisposeAsync(); // lets the stopping gateway drain at once
        await restart;
        var request = await fx.RequestAsync(id);
        Assert.Equal("orphaned", (string?)request["state"]);

        // The old gateway's recording of the session holds each step of the request.
        var output = new StringWriter();
        var errors = new StringWriter();
        int code = await Program.CreateRootCommand().Parse(["sessions", "show", (string)request["session_id"]!, "--config", fx.Env.ConfigPath])
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = errors });
        Assert.True(code == 0, errors.ToString());
        Assert.Contains($"APPROVAL requested {id} by deploy", output.ToString());
        Assert.Contains($"APPROVAL orphaned {id} by gateway: the gateway stopped while the request waited", output.ToString());
        var (status, _) = await fx.ApproveAsync(id, fx.Env.Token("dba"));
        Assert.Equal(409, status);
        Assert.False(await fx.TableExistsAsync(table));

        // The restarted gateway still holds new requests.
        var (conn2, run2, id2, table2) = await HoldAsync();
        await using (conn2)
        {
            Assert.Equal(200, (await fx.ApproveAsync(id2, fx.Env.Token("dba"))).Status);
            await run2;
            Assert.True(await fx.TableExistsAsync(table2));
        }
    }
}

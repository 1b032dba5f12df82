using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Appliance.Approvals;
using Appliance.Demo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Appliance.Tests.Approvals;

/// <summary>
/// A real PostgreSQL and a gateway with approvals: the demo's <c>orders</c> target (DDL by deploy needs one dba,
/// 15m) plus <c>quick</c> (timeout 2s) and <c>quorum</c> (2 dba approvals), a webhook receiver on loopback that
/// fails twice per delivery, and a per-principal limit of 3 pending requests.
/// </summary>
public sealed class ApprovalsFixture : IAsyncLifetime
{
    public const string WebhookSecret = "webhook-test-secret";

    internal DemoEnvironment Env { get; private set; } = null!;
    internal WebhookReceiver Webhook { get; private set; } = null!;
    /// <summary>What the gateway logged, with scopes.</summary>
    internal CapturingLoggerProvider Logs { get; } = new();
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        Webhook = new WebhookReceiver(PostgresProcess.FreePort());
        await Webhook.StartAsync();
        Env = await DemoEnvironment.StartAsync(logging: b => b.AddProvider(Logs), extraTargets: env =>
        {
            DemoEnvironment.WriteSecret(Path.Combine(env.Directory, "secrets", "webhook"), WebhookSecret);
            string listen = $"127.0.0.1:{env.GatewayPort}";
            string upstream = $"{{ host: 127.0.0.1, port: {env.Postgres.Port}, database: orders, user: {DemoEnvironment.UpstreamUser}, password_file: secrets/orders }}";
            return Task.FromResult($"""
                  - name: quick
                    kind: postgres
                    listen: {listen}
                    upstream: {upstream}
                    rules:
                      - roles: [deploy]
                        allow: [select, insert, transaction, session]
                      - roles: [deploy]
                        review: [ddl]
                        approvers: [dba]
                        timeout: 2s
                  - name: quorum
                    kind: postgres
                    listen: {listen}
                    upstream: {upstream}
                    rules:
                      - roles: [deploy]
                        allow: [select, transaction, session]
                      - roles: [deploy]
                        review: [ddl]
                        approvers: [dba]
                        approvals: 2
                        timeout: 15m
                """);
        }, extraConfig: env => $"""
            approvals:
              max_pending: 100
              max_pending_per_principal: 3
              webhook:
                url: http://127.0.0.1:{Webhook.Port}/hook
                secret_file: secrets/webhook
                attempts: 4
                backoff: 50ms
            """);
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Env.AdminPort}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await Env.DisposeAsync();
        await Webhook.DisposeAsync();
    }

    internal ApprovalQueue Queue => Env.Host!.Services.GetRequiredService<ApprovalService>().Queue;

    /// <summary>A token for a principal with the given subject and the claims of a demo principal (plus extra claims).</summary>
    public string TokenFor(string subject, string like, params (string Name, object Value)[] extra)
    {
        var claims = new Dictionary<string, object>(DemoEnvironment.Principals[like]);
        foreach (var (name, value) in extra) claims[name] = value;
        return Env.Mint(subject, claims);
    }

    public NpgsqlConnection Npgsql(string token, string database = "orders") => new(
        $"Host=localhost;Port={Env.GatewayPort};Database={database};Username=ci;Password={token};SSL Mode=VerifyFull;Root Certificate={Env.CaPath};Pooling=false;Timeout=30;Command Timeout=120");

    public string Libpq(string database = "orders") =>
        $"host=localhost port={Env.GatewayPort} dbname={database} user=ci sslmode=verify-full sslrootcert={Env.CaPath}";

    /// <summary>Runs SQL directly on the database (not through the gateway), as the superuser.</summary>
    public Task<string> DirectAsync(string sql) => Env.Postgres.PsqlAsync(sql, database: "orders");

    public async Task<bool> TableExistsAsync(string table) => await DirectAsync($"select to_regclass('public.{table}') is not null") == "t";

    public async Task<(int Status, JsonNode? Body)> ApiAsync(HttpMethod method, string path, string? token, object? body = null, string? rawBody = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (rawBody is not null) request.Content = new StringContent(rawBody, System.Text.Encoding.UTF8, "application/json");
        else if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await _http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? json = null;
        try { json = text.Length > 0 ? JsonNode.Parse(text) : null; } catch (JsonException) { }
        return ((int)response.StatusCode, json);
    }

    public async Task<JsonNode> RequestAsync(string id)
    {
        var (status, body) = await ApiAsync(HttpMethod.Get, $"/v1/approvals/{id}", Env.Token("dba"));
        Assert.Equal(200, status);
        return body!;
    }

    /// <summary>Waits (bounded) until the request reaches <paramref name="state"/>, observed through the API.</summary>
    public async Task<JsonNode> WaitForStateAsync(string id, string state, Func<JsonNode, bool>? also = null, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var request = await RequestAsync(id);
            if ((string?)request["state"] == state && (also is null || also(request)))
            {
                return request;
            }
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"request {id} did not reach {state} within {seconds}s: {request.ToJsonString()}");
            }
            await Task.Delay(20);
        }
    }

    public Task<(int Status, JsonNode? Body)> ApproveAsync(string id, string token, string? reason = null) =>
        ApiAsync(HttpMethod.Post, $"/v1/approvals/{id}/approve", token, new { reason });

    public Task<(int Status, JsonNode? Body)> DenyAsync(string id, string token, string reason) =>
        ApiAsync(HttpMethod.Post, $"/v1/approvals/{id}/deny", token, new { reason });
}

[CollectionDefinition(Name)]
public sealed class ApprovalsCollection : ICollectionFixture<ApprovalsFixture>
{
    public const string Name = "approvals";
}

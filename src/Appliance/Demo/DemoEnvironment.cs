using System.Security.Cryptography;
using Appliance.Configuration;
using Appliance.Hosting;
using Appliance.Identity;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.Tokens;

namespace Appliance.Demo;

/// <summary>
/// Everything <c>appliance demo</c> runs: a throwaway PostgreSQL with a seeded schema, a demo token issuer,
/// a demo policy and the gateway. The integration tests start the same environment.
/// </summary>
internal sealed class DemoEnvironment : IAsyncDisposable
{
    public const string Issuer = "https://issuer.demo.appliance.invalid";
    public const string Audience = "appliance";
    public const string UpstreamUser = "appliance_gw";

    /// <summary>Claims of the demo principals, one per role, plus one with no role at all.</summary>
    public static readonly IReadOnlyDictionary<string, Dictionary<string, object>> Principals = new Dictionary<string, Dictionary<string, object>>
    {
        ["test"] = new() { ["repository"] = "acme/shop", ["job_workflow_ref"] = "acme/shop/.github/workflows/ci.yml@refs/heads/feature-x", ["ref"] = "refs/heads/feature-x" },
        ["deploy"] = new() { ["repository"] = "acme/shop", ["ref"] = "refs/heads/main", ["environment"] = "production" },
        ["dba"] = new() { ["groups"] = new[] { "developers", "dba" } },
        ["outsider"] = new() { ["repository"] = "acme/other", ["ref"] = "refs/heads/main" },
    };

    private readonly TokenMinter _minter;

    private DemoEnvironment(string directory, PostgresProcess postgres, TokenMinter minter)
    {
        Directory = directory;
        Postgres = postgres;
        _minter = minter;
    }

    public string Directory { get; }
    public PostgresProcess Postgres { get; }
    public IHost? Host { get; private set; }
    public ApplianceConfig Config { get; private set; } = null!;
    public string ConfigPath => Path.Combine(Directory, "appliance.yaml");
    public string CaPath => Path.Combine(Directory, "state", "tls", "ca.pem");
    public int GatewayPort { get; private set; }
    public int AdminPort { get; private set; }
    public string UpstreamPassword { get; private set; } = "";

    public string TokenPath(string principal) => Path.Combine(Directory, "tokens", principal + ".jwt");

    /// <summary>A token for one of the demo principals, valid for an hour.</summary>
    public string Token(string principal) => Mint(principal, Principals[principal]);

    public string Mint(string subject, IReadOnlyDictionary<string, object> claims, TimeSpan? lifetime = null, string issuer = Issuer, string audience = Audience, DateTimeOffset? notBefore = null)
        => _minter.Mint(issuer, audience, subject, lifetime ?? TimeSpan.FromHours(1), claims, notBefore);

    /// <param name="gatewayPort">0 picks a free port.</param>
    /// <param name="extraTargets">Appends targets (YAML list items) after the demo's own; gets the environment to
    /// create what they need first.</param>
    /// <param name="extraConfig">Top-level YAML appended after the targets (an <c>approvals:</c> section).</param>
    public static async Task<DemoEnvironment> StartAsync(int gatewayPort = 0, Func<DemoEnvironment, Task<string>>? extraTargets = null, Action<ILoggingBuilder>? logging = null,
        Func<DemoEnvironment, string>? extraConfig = null, int maxConnections = 300, CancellationToken ct = default)
    {
        var postgres = await PostgresProcess.StartAsync(maxConnections, ct: ct);
        var directory = System.IO.Directory.CreateTempSubdirectory("appliance-demo-").FullName;
        var key = SigningKeys.Generate("ES256");
        var env = new DemoEnvironment(directory, postgres, new TokenMinter(key));
        try
        {
            await env.SeedAsync(ct);
            foreach (var sub in new[] { "keys", "tokens", "secrets", "state" })
            {
                System.IO.Directory.CreateDirectory(Path.Combine(directory, sub));
            }
            SigningKeys.WriteJwks(Path.Combine(directory, "keys", "jwks.json"), key);
            SigningKeys.WritePrivateKeyPem(key, Path.Combine(directory, "keys", "signing-key.pem"));
            WriteSecret(Path.Combine(directory, "secrets", "orders"), env.UpstreamPassword);
            foreach (var principal in Principals.Keys)
            {
                WriteSecret(env.TokenPath(principal), env.Token(principal));
            }
            env.GatewayPort = gatewayPort == 0 ? PostgresProcess.FreePort() : gatewayPort;
            env.AdminPort = PostgresProcess.FreePort();
            string extra = extraTargets is null ? "" : await extraTargets(env);
            await File.WriteAllTextAsync(env.ConfigPath, env.ConfigYaml(extra) + "\n" + (extraConfig?.Invoke(env) ?? ""), ct);
            var loaded = ConfigLoader.LoadFile(env.ConfigPath);
            if (!loaded.Succeeded)
            {
                throw new InvalidOperationException("demo config is invalid:\n" + string.Join('\n', loaded.Errors));
            }
            env.Config = loaded.Config;
            env.Host = GatewayHost.Build(loaded.Config, logging);
            await env.Host.StartAsync(ct);
            return env;
        }
        catch
        {
            await env.DisposeAsync();
            throw;
        }
    }

    public GatewayService Gateway => Host!.Services.GetRequiredService<GatewayService>();

    /// <summary>Stops the gateway and starts a new one from the same configuration and state directory.</summary>
    public async Task RestartGatewayAsync(Action<ILoggingBuilder>? logging = null, CancellationToken ct = default)
    {
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15)))
        {
            await Host!.StopAsync(timeout.Token);
        }
        Host.Dispose();
        Host = null;
        Host = GatewayHost.Build(Config, logging);
        await Host.StartAsync(ct);
    }

    private async Task SeedAsync(CancellationToken ct)
    {
        UpstreamPassword = Convert.ToHexString(RandomNumberGenerator.GetBytes(18)).ToLowerInvariant();
        await Postgres.PsqlAsync($"""
            CREATE ROLE {UpstreamUser} LOGIN PASSWORD '{UpstreamPassword}';
            CREATE DATABASE orders OWNER {UpstreamUser};
            """, ct: ct);
        await Postgres.PsqlAsync($"""
            SET ROLE {UpstreamUser};
            CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, card_number text NOT NULL);
            CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, total numeric(10,2) NOT NULL, created_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO customers VALUES
              (1, 'Ada Lovelace', 'ada@example.com', '4111111111111111'),
              (2, 'Alan Turing', 'alan@example.com', '5500005555555559'),
              (3, 'Grace Hopper', 'grace@example.com', '340000000000009');
            INSERT INTO orders (id, customer_id, total) VALUES (1, 1, 42.50), (2, 2, 9.99), (3, 1, 120.00), (4, 3, 15.25);
            """, database: "orders", ct: ct);
    }

    private string ConfigYaml(string extraTargets) => $"""
        # Written by `appliance demo`: a demo issuer, three roles and one PostgreSQL target with its policy.
        state_dir: {Path.Combine(Directory, "state")}
        admin:
          listen: 127.0.0.1:{AdminPort}
          roles: [dba]
          metrics: true
        identity:
          issuers:
            - name: demo
              issuer: {Issuer}
              audiences: [{Audience}]
              jwks_file: keys/jwks.json
              algorithms: [ES256, RS256]
        roles:
          - name: test
            claims: {"{"} repository: acme/shop, job_workflow_ref: "acme/shop/.github/workflows/ci.yml@*" {"}"}
          - name: deploy
            claims: {"{"} repository: acme/shop, ref: refs/heads/main, environment: production {"}"}
          - name: dba
            claims: {"{"} groups: dba {"}"}
        targets:
          - name: orders
            kind: postgres
            listen: 127.0.0.1:{GatewayPort}
            upstream: {"{"} host: 127.0.0.1, port: {Postgres.Port}, database: orders, user: {UpstreamUser}, password_file: secrets/orders, tls: prefer {"}"}
            rules:
              - roles: [test, deploy]
                deny: [copy_in, do]
              - roles: [test]
                allow: [select, transaction, session]
                tables: ["public.*"]
              - roles: [deploy]
                allow: [select, insert, update, delete, transaction, session]
              - roles: [deploy]
                review: [ddl]
                approvers: [dba]
                approvals: 1
                timeout: 15m
              - roles: [dba]
                allow: [all]
            masking:
              - columns: [public.customers.card_number]
                strategy: partial
                keep: 4
                exempt_roles: [dba]
              - columns: [public.customers.email]
                strategy: hash
                exempt_roles: [dba]
        {extraTargets}
        """;

    public static void WriteSecret(string path, string content)
    {
        File.WriteAllText(path, content + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public async ValueTask DisposeAsync()
    {
        if (Host is not null)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            try
            {
                await Host.StopAsync(timeout.Token);
            }
            finally
            {
                Host.Dispose();
            }
        }
        await Postgres.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

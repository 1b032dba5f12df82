using System.Diagnostics;
using Appliance.Demo;
using Appliance.Tests.Postgres;
using Npgsql;

namespace Appliance.Tests.Masking;

/// <summary>
/// A gateway with a target `maskdb` on the demo database whose `test` role may select, COPY out, write and run
/// DDL, with email hashed and card_number partially masked (dba exempt). A sentinel customer carries values
/// that must never reach a masked client, and views and a function over the masked columns exist.
/// </summary>
public sealed class MaskingFixture : IAsyncLifetime
{
    public const string SentinelEmail = "sentinel-7f3a@example.com";
    public const string SentinelCard = "4000123412341234";

    internal DemoEnvironment Env { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Env = await DemoEnvironment.StartAsync(extraTargets: AddTargetAsync);
    }

    private static async Task<string> AddTargetAsync(DemoEnvironment env)
    {
        await env.Postgres.PsqlAsync($"""
            SET ROLE {DemoEnvironment.UpstreamUser};
            INSERT INTO customers VALUES (4, 'Sentinel Person', '{SentinelEmail}', '{SentinelCard}');
            CREATE VIEW customer_emails AS SELECT id, email FROM customers;
            CREATE VIEW customer_names AS SELECT id, name FROM customers;
            CREATE VIEW nested_emails AS SELECT * FROM customer_emails;
            CREATE MATERIALIZED VIEW customer_cards AS SELECT id, card_number FROM customers;
            CREATE FUNCTION get_email(int) RETURNS text LANGUAGE sql AS 'SELECT email FROM customers WHERE id = $1';
            CREATE TABLE notes (id int, body text);
            """, database: "orders");
        return $"""
              - name: maskdb
                kind: postgres
                listen: 127.0.0.1:{env.GatewayPort}
                upstream: {"{"} host: 127.0.0.1, port: {env.Postgres.Port}, database: orders, user: {DemoEnvironment.UpstreamUser}, password_file: secrets/orders, tls: prefer {"}"}
                rules:
                  - roles: [test]
                    allow: [select, lock, copy_out, insert, update, ddl, transaction, session, call]
                    functions: [ts_stat, query_to_xml]   # allowed by policy: masking must still refuse them
                  - roles: [dba]
                    allow: [all]
                masking:
                  - columns: [public.customers.email]
                    strategy: hash
                    exempt_roles: [dba]
                  - columns: [public.customers.card_number]
                    strategy: partial
                    keep: 4
                    exempt_roles: [dba]
            """;
    }

    public async Task DisposeAsync() => await Env.DisposeAsync();

    public string Libpq => $"host=localhost port={Env.GatewayPort} dbname=maskdb user=ci sslmode=verify-full sslrootcert={Env.CaPath}";

    public NpgsqlConnection Npgsql(string principal) => new(
        $"Host=localhost;Port={Env.GatewayPort};Database=maskdb;Username=ci;Password={Env.Token(principal)};SSL Mode=VerifyFull;Root Certificate={Env.CaPath};Pooling=false;Timeout=30");

    /// <summary>psql through the gateway as <paramref name="principal"/>, unaligned and tuples only.</summary>
    public Task<(int Code, string Stdout, string Stderr)> PsqlAsync(string principal, params string[] commands)
    {
        var args = new List<string> { "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", Libpq };
        foreach (var c in commands)
        {
            args.Add("-c");
            args.Add(c);
        }
        return GatewayFixture.RunAsync("psql", Env.Token(principal), [.. args]);
    }

    /// <summary>psql straight to the database as the gateway's upstream user: the unmasked truth.</summary>
    public async Task<string> DirectAsync(string sql)
    {
        var info = new ProcessStartInfo("psql") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", Env.Postgres.Port.ToString(), "-U", DemoEnvironment.UpstreamUser, "-d", "orders", "-c", sql })
        {
            info.ArgumentList.Add(a);
        }
        info.Environment["PGPASSWORD"] = Env.UpstreamPassword;
        var (code, output) = await PostgresProcess.RunCapturedAsync(info, CancellationToken.None);
        Assert.True(code == 0, output);
        return output;
    }
}

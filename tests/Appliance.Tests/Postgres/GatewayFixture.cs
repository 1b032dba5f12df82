using System.Diagnostics;
using Appliance.Demo;
using Npgsql;

namespace Appliance.Tests.Postgres;

/// <summary>
/// One real PostgreSQL and one gateway for the PostgreSQL tests: the demo environment plus targets that
/// exercise md5, trust, a wrong password and an upstream that is down.
/// </summary>
public sealed class GatewayFixture : IAsyncLifetime
{
    internal DemoEnvironment Env { get; private set; } = null!;

    public int Port => Env.GatewayPort;

    public async Task InitializeAsync()
    {
        Env = await DemoEnvironment.StartAsync(extraTargets: AddTestTargetsAsync);
    }

    private static async Task<string> AddTestTargetsAsync(DemoEnvironment env)
    {
        await env.Postgres.PsqlAsync("""
            SET password_encryption = 'md5';
            CREATE ROLE md5user LOGIN PASSWORD 'md5-secret';
            CREATE ROLE trustuser LOGIN;
            GRANT CONNECT ON DATABASE orders TO md5user, trustuser;
            """);
        await env.Postgres.PsqlAsync("GRANT SELECT ON customers TO md5user, trustuser;", database: "orders");
        // Where unqualified names resolve: shadowuser has a schema of its own name ("$user" in the default
        // search_path) with its own customers table; pathuser's role setting puts schema app first.
        await env.Postgres.PsqlAsync("""
            CREATE ROLE shadowuser LOGIN PASSWORD 'shadow-secret';
            CREATE ROLE pathuser LOGIN PASSWORD 'path-secret';
            GRANT CONNECT ON DATABASE orders TO shadowuser, pathuser;
            ALTER ROLE pathuser SET search_path = app;
            """);
        await env.Postgres.PsqlAsync("""
            CREATE SCHEMA shadowuser AUTHORIZATION shadowuser;
            CREATE TABLE shadowuser.customers (id int, secret text);
            INSERT INTO shadowuser.customers VALUES (1, 'shadow');
            GRANT SELECT ON shadowuser.customers TO shadowuser;
            CREATE SCHEMA app;
            CREATE TABLE app.customers (id int, name text);
            INSERT INTO app.customers VALUES (1, 'app one'), (2, 'app two');
            GRANT USAGE ON SCHEMA app TO pathuser;
            GRANT SELECT ON app.customers TO pathuser;
            GRANT SELECT ON public.customers TO shadowuser, pathuser;
            """, database: "orders");
        // Views over a table a deny rule names (viewsdb), one through another, and one over an allowed table.
        await env.Postgres.PsqlAsync("""
            CREATE SCHEMA reports;
            CREATE VIEW reports.customer_emails AS SELECT id, email FROM public.customers;
            CREATE VIEW reports.nested AS SELECT email FROM reports.customer_emails;
            CREATE VIEW reports.order_totals AS SELECT customer_id, sum(total) AS total FROM public.orders GROUP BY customer_id;
            CREATE ROLE limituser LOGIN PASSWORD 'limit-secret' CONNECTION LIMIT 1;
            GRANT SELECT ON public.customers, public.orders TO limituser;
            CREATE FUNCTION reports.card_of(int) RETURNS text LANGUAGE sql AS 'select card_number from public.customers where id = $1';
            CREATE VIEW reports.cards_by_order AS SELECT id, reports.card_of(customer_id) AS card FROM public.orders;
            CREATE VIEW reports.cards_nested AS SELECT id FROM reports.cards_by_order;
            CREATE FUNCTION reports.safe_upper(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'select upper($1)';
            CREATE FUNCTION public.safe_upper(text) RETURNS text LANGUAGE sql AS 'select card_number from public.customers limit 1';
            CREATE VIEW reports.safe_totals AS SELECT reports.safe_upper(customer_id::text) AS who, total FROM reports.order_totals;
            CREATE VIEW reports.safe_emails AS SELECT reports.safe_upper(email) AS email FROM public.customers;
            GRANT USAGE ON SCHEMA reports TO appliance_gw;
            GRANT SELECT ON ALL TABLES IN SCHEMA reports TO appliance_gw;
            """, database: "orders");
        DemoEnvironment.WriteSecret(Path.Combine(env.Directory, "secrets", "limit"), "limit-secret");
        DemoEnvironment.WriteSecret(Path.Combine(env.Directory, "secrets", "shadow"), "shadow-secret");
        DemoEnvironment.WriteSecret(Path.Combine(env.Directory, "secrets", "path"), "path-secret");
        DemoEnvironment.WriteSecret(Path.Combine(env.Directory, "secrets", "md5"), "md5-secret");
        DemoEnvironment.WriteSecret(Path.Combine(env.Directory, "secrets", "wrong"), "not-the-password");
        int down = PostgresProcess.FreePort();
        string listen = $"127.0.0.1:{env.GatewayPort}";
        string pg = $"host: 127.0.0.1, port: {env.Postgres.Port}";
        return $"""
              - name: md5db
                kind: postgres
                listen: {listen}
                upstream: {"{"} {pg}, database: orders, user: md5user, password_file: secrets/md5, tls: disable {"}"}
                rules: [{"{"} roles: [test], allow: [all] {"}"}]
              - name: trustdb
                kind: postgres
                listen: {listen}
                upstream: {"{"} {pg}, database: orders, user: trustuser, tls: disable {"}"}
                rules: [{"{"} roles: [test], allow: [all] {"}"}]
              - name: metricsdb
                kind: postgres
                listen: {listen}
                upstream: {"{"} {pg}, database: orders, user: trustuser, tls: disable {"}"}
                rules: [{"{"} roles: [test], allow: [select] {"}"}]
              - name: wrongpassword
                kind: postgres
                listen: {listen}
                upstream: {"{"} {pg}, database: orders, user: {DemoEnvironment.UpstreamUser}, password_file: secrets/wrong {"}"}
                rules: [{"{"} roles: [test], allow: [all] {"}"}]
              - name: downdb
                kind: postgres
                listen: {listen}
                upstream: {"{"} host: 127.0.0.1, port: {down}, database: orders, user: nobody, tls: disable {"}"}
                rules: [{"{"} roles: [test], allow: [all] {"}"}]
              - name: shadowdb
                kind: postgres
                listen: {listen}
                upstream: {"{"} {pg}, database: orders, user: shadowuser, password_file: secrets/shadow, tls: disable {"}"}
                rules: [{"{"} roles: [test], allow: [select], tables: ["public.*"] {"}"}]
              - name: pathdb
                kind: postgres
                listen: {listen}
                upstream: {"{"} {pg}, database: orders, user: pathuser, password_file: secrets/path, tls: disable {"}"}
                rules: [{"{"} roles: [test], allow: [select, session], tables: ["app.*"] {"}"}]
              - name: viewsdb
                kind: postgres
                listen: {listen}
                upstream: {"{"} {pg}, database: orders, user: {DemoEnvironment.UpstreamUser}, password_file: secrets/orders, tls: disable {"}"}
                rules:
                  - {"{"} roles: [test], deny: [select], tables: ["public.customers"] {"}"}
                  - {"{"} roles: [test], allow: [select, ddl] {"}"}
              - name: trusteddb
                kind: postgres
                listen: {listen}
                upstream: {"{"} {pg}, database: orders, user: {DemoEnvironment.UpstreamUser}, password_file: secrets/orders, tls: disable {"}"}
                trusted_functions: [reports.safe_*]
                rules:
                  - {"{"} roles: [test], deny: [select], tables: ["public.customers"] {"}"}
                  - {"{"} roles: [test], allow: [select] {"}"}
              - name: refreshdb
                kind: postgres
                listen: {listen}
                upstream: {"{"} {pg}, database: orders, user: {DemoEnvironment.UpstreamUser}, password_file: secrets/orders, tls: disable, catalog_max_age: 1ms {"}"}
                rules:
                  - {"{"} roles: [test], deny: [select], tables: ["public.customers"] {"}"}
                  - {"{"} roles: [test], allow: [select] {"}"}
              - name: nocatalogdb
                kind: postgres
                listen: {listen}
                upstream: {"{"} {pg}, database: orders, user: limituser, password_file: secrets/limit, tls: disable {"}"}
                rules:
                  - {"{"} roles: [test], deny: [select], tables: ["public.customers"] {"}"}
                  - {"{"} roles: [test], allow: [select] {"}"}
              - name: dbaonly
                kind: postgres
                listen: {listen}
                upstream: {"{"} {pg}, database: orders, user: {DemoEnvironment.UpstreamUser}, password_file: secrets/orders {"}"}
                rules: [{"{"} roles: [dba], allow: [all] {"}"}]
            """;
    }

    public async Task DisposeAsync() => await Env.DisposeAsync();

    /// <summary>A libpq connection string through the gateway with full TLS verification.</summary>
    public string Libpq(string database = "orders") =>
        $"host=localhost port={Port} dbname={database} user=ci sslmode=verify-full sslrootcert={Env.CaPath}";

    public NpgsqlConnection Npgsql(string token, string database = "orders", string extra = "")
    {
        var cs = $"Host=localhost;Port={Port};Database={database};Username=ci;Password={token};SSL Mode=VerifyFull;Root Certificate={Env.CaPath};Pooling=false;Timeout=30;{extra}";
        return new NpgsqlConnection(cs);
    }

    /// <summary>Runs a client program (psql, pgbench) with a token as PGPASSWORD.</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string program, string token, params string[] args)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["PGPASSWORD"] = token;
        info.Environment["PGCONNECT_TIMEOUT"] = "30";
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<GatewayFixture>
{
    public const string Name = "gateway";
}

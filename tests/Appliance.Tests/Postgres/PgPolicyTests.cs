using Npgsql;

namespace Appliance.Tests.Postgres;

/// <summary>Statement policy end to end: refusals name the rule and class, and psql and Npgsql stay in step.</summary>
[Collection(GatewayCollection.Name)]
public sealed class PgPolicyTests(GatewayFixture fx)
{
    private async Task<NpgsqlConnection> OpenAsync(string principal)
    {
        var conn = fx.Npgsql(fx.Env.Token(principal));
        await conn.OpenAsync();
        return conn;
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }

    private static async Task<PostgresException> RefusedAsync(NpgsqlConnection conn, string sql)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(conn, sql));
        Assert.Equal("42501", error.SqlState);
        return error;
    }

    private Task<string> AdminScalarAsync(string sql) => fx.Env.Postgres.PsqlAsync(sql, database: "orders");

    [Fact]
    public async Task Npgsql_DeniedWrite_RefusedNamingClassThenNextStatementWorks()
    {
        await using var conn = await OpenAsync("test");
        var error = await RefusedAsync(conn, "delete from orders where id = 1");
        Assert.Contains("no rule of target \"orders\" allows delete on public.orders", error.MessageText);
        Assert.Equal("4", await AdminScalarAsync("select count(*) from orders"));
        Assert.Equal(4L, await ScalarAsync(conn, "select count(*) from orders"));
    }

    [Fact]
    public async Task Npgsql_DenyRule_MessageNamesRuleAndLine()
    {
        await using var conn = await OpenAsync("test");
        var error = await RefusedAsync(conn, "do $$ begin perform 1; end $$");
        Assert.Matches(@"statement refused by rule 1 \(line \d+\) of target ""orders"": do is denied", error.MessageText);
    }

    [Fact]
    public async Task Npgsql_PreparedRefusedStatement_RefusedAtParseAndSessionUsable()
    {
        await using var conn = await OpenAsync("test");
        await using (var cmd = new NpgsqlCommand("update customers set name = $1 where id = 1", conn) { Parameters = { new() { Value = "x" } } })
        {
            var error = await Assert.ThrowsAsync<PostgresException>(async () => { await cmd.PrepareAsync(); await cmd.ExecuteNonQueryAsync(); });
            Assert.Equal("42501", error.SqlState);
        }
        await using var ok = new NpgsqlCommand("select name from customers where id = $1", conn) { Parameters = { new() { Value = 1 } } };
        await ok.PrepareAsync();
        Assert.Equal("Ada Lovelace", await ok.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Npgsql_BatchWithRefusedMiddle_NothingRunsAndConnectionUsable()
    {
        await using var conn = await OpenAsync("deploy");
        await using var batch = new NpgsqlBatch(conn)
        {
            BatchCommands = { new("insert into orders (id, customer_id, total) values (100, 1, 1)"), new("do $$ begin perform 1; end $$"), new("select 1") },
        };
        var error = await Assert.ThrowsAsync<PostgresException>(() => batch.ExecuteNonQueryAsync());
        Assert.Equal("42501", error.SqlState);
        Assert.Contains("do is denied", error.MessageText);
        // The batch is one implicit transaction: the insert before the refusal is rolled back with it.
        Assert.Equal("0", await AdminScalarAsync("select count(*) from orders where id = 100"));
        Assert.Equal(1, await ScalarAsync(conn, "select 1"));
    }

    [Fact]
    public async Task Psql_MultiStatementQueryWithOneRefused_WholeMessageRefused()
    {
        var (code, _, stderr) = await GatewayFixture.RunAsync("psql", fx.Env.Token("deploy"), "-X", "-A", "-t", fx.Libpq(),
            "-c", "insert into orders (id, customer_id, total) values (200, 1, 1); do $$ begin perform 1; end $$");
        Assert.Equal(1, code);
        Assert.Contains("ERROR:  statement refused", stderr);
        Assert.Equal("0", await AdminScalarAsync("select count(*) from orders where id = 200"));
    }

    [Fact]
    public async Task Psql_RefusalInsideTransaction_AbortsItLikeAServerError()
    {
        var (code, stdout, stderr) = await GatewayFixture.RunAsync("psql", fx.Env.Token("test"), "-X", "-A", "-t", fx.Libpq(),
            "-c", "begin; select count(*) from customers; delete from customers; select 1; commit;");
        // psql sends all of -c as one Query: the refusal stops it before anything runs.
        Assert.Equal(1, code);
        Assert.Contains("no rule of target \"orders\" allows delete", stderr);
        Assert.Equal("", stdout.Trim());

        await using var conn = await OpenAsync("test");
        await using var tx = await conn.BeginTransactionAsync();
        Assert.Equal(3L, await ScalarAsync(conn, "select count(*) from customers"));
        await RefusedAsync(conn, "delete from customers");
        var aborted = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(conn, "select 1"));
        Assert.Equal("25P02", aborted.SqlState);
        await tx.RollbackAsync();
        Assert.Equal(1, await ScalarAsync(conn, "select 1"));
    }

    [Theory]
    [InlineData("with d as (delete from orders returning *) select count(*) from d", "delete")]
    [InlineData("select * into stolen from customers", "ddl")]
    [InlineData("select * from customers for update", "lock")]
    [InlineData("explain analyze delete from orders", "delete")]
    [InlineData("select lo_import('/etc/passwd')", "guarded function")]
    [InlineData("select pg_read_file('/etc/passwd')", "guarded function")]
    [InlineData("copy customers from stdin", "copy_in")]
    [InlineData("set role postgres", "privilege")]
    [InlineData("select * from pg_catalog.pg_user, private_schema.secrets", "private_schema.secrets")]
    [InlineData("create table t (a int)", "ddl")]
    public async Task Npgsql_TestRole_TrapsAreRefused(string sql, string expected)
    {
        await using var conn = await OpenAsync("test");
        var error = await RefusedAsync(conn, sql);
        Assert.Contains(expected, error.MessageText);
        Assert.Equal(1, await ScalarAsync(conn, "select 1"));
    }

    [Fact]
    public async Task Npgsql_Dba_CopyToProgramNeedsExplicitRule()
    {
        await using var conn = await OpenAsync("dba");
        var error = await RefusedAsync(conn, "copy (select 1) to program 'cat > /tmp/x'");
        Assert.Contains("copy_program", error.MessageText);
        Assert.Equal(3L, await ScalarAsync(conn, "select count(*) from customers"));
    }

    [Fact]
    public async Task Npgsql_SqlPrepareExecute_DecidedOnWhatWasPrepared()
    {
        await using var conn = await OpenAsync("test");
        await ScalarAsync(conn, "prepare q (int) as select name from customers where id = $1");
        Assert.Equal("Alan Turing", await ScalarAsync(conn, "execute q(2)"));
        var refused = await RefusedAsync(conn, "prepare d as delete from customers");
        Assert.Contains("delete", refused.MessageText);
        var unknown = await RefusedAsync(conn, "execute never_prepared");
        Assert.Contains("was not prepared through the gateway", unknown.MessageText);
    }

    [Fact]
    public async Task Npgsql_SearchPathChanged_UnqualifiedTablesFailClosed()
    {
        await using var conn = await OpenAsync("test");
        await ScalarAsync(conn, "set search_path = public");
        var error = await RefusedAsync(conn, "select count(*) from customers");
        Assert.Contains("could not tell every table", error.MessageText);
        Assert.Equal(3L, await ScalarAsync(conn, "select count(*) from public.customers"));
    }

    [Fact]
    public async Task Npgsql_SchemaNamedAfterUpstreamUser_UnqualifiedTablesFailClosed()
    {
        // The default search_path is "$user", public: for shadowuser, customers is shadowuser.customers.
        await using var conn = fx.Npgsql(fx.Env.Token("test"), database: "shadowdb");
        await conn.OpenAsync();
        var error = await RefusedAsync(conn, "select count(*) from customers");
        Assert.Contains("qualify table names with their schema", error.MessageText);
        Assert.Equal(3L, await ScalarAsync(conn, "select count(*) from public.customers"));
    }

    [Fact]
    public async Task Npgsql_RoleSearchPath_UnqualifiedTablesResolveWhereTheServerResolvesThem()
    {
        await using var conn = fx.Npgsql(fx.Env.Token("test"), database: "pathdb");
        await conn.OpenAsync();
        // ALTER ROLE pathuser SET search_path = app: the rule allows app.*, and customers is app.customers.
        Assert.Equal(2L, await ScalarAsync(conn, "select count(*) from customers"));
        var error = await RefusedAsync(conn, "select count(*) from public.customers");
        Assert.Contains("public.customers", error.MessageText);
        await ScalarAsync(conn, "set search_path = public");
        await RefusedAsync(conn, "select count(*) from customers");
        await ScalarAsync(conn, "reset search_path");
        Assert.Equal(2L, await ScalarAsync(conn, "select count(*) from customers"));
    }

    [Fact]
    public async Task Psql_CatalogQueries_WorkForTableRestrictedRole()
    {
        var (code, stdout, stderr) = await GatewayFixture.RunAsync("psql", fx.Env.Token("test"), "-X", fx.Libpq(), "-c", "\\dt");
        Assert.True(code == 0, stderr);
        Assert.Contains("customers", stdout);
    }

    [Fact]
    public async Task Npgsql_PooledConnectionReset_DiscardAllAllowedButSetRoleIsNot()
    {
        var cs = $"Host=localhost;Port={fx.Port};Database=orders;Username=ci;Password={fx.Env.Token("test")};SSL Mode=VerifyFull;Root Certificate={fx.Env.CaPath};Pooling=true;Maximum Pool Size=1;Application Name=pool-{Guid.NewGuid():N}";
        for (int i = 0; i < 3; i++)
        {
            await using var conn = new NpgsqlConnection(cs);
            await conn.OpenAsync();
            await ScalarAsync(conn, "set statement_timeout = 5000");
            Assert.Equal(3L, await ScalarAsync(conn, "select count(*) from customers"));
        }
        await using var direct = await OpenAsync("test");
        Assert.Null(await ScalarAsync(direct, "discard all"));
        Assert.Null(await ScalarAsync(direct, "reset role"));
        await RefusedAsync(direct, "set session authorization postgres");
    }
}

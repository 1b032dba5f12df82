using Npgsql;

namespace Appliance.Tests.Postgres;

/// <summary>Real clients (psql, pgbench, Npgsql) through the gateway to a real PostgreSQL.</summary>
[Collection(GatewayCollection.Name)]
public sealed class PgClientTests(GatewayFixture fx)
{
    private string TestToken => fx.Env.Token("test");

    /// <summary>The demo's dba role may run anything (pgbench -i, temp tables, COPY FROM).</summary>
    private string DbaToken => fx.Env.Token("dba");

    [Fact]
    public async Task Psql_SelectOverVerifiedTls_ReturnsRows()
    {
        var (code, stdout, stderr) = await GatewayFixture.RunAsync("psql", TestToken, "-X", "-A", "-t", fx.Libpq(),
            "-c", "select name from customers order by id", "-c", "\\conninfo");
        Assert.True(code == 0, stderr);
        Assert.StartsWith("Ada Lovelace\nAlan Turing\nGrace Hopper\n", stdout);
        Assert.Contains("SSL connection (protocol: TLSv1.3", stdout);
    }

    [Fact]
    public async Task Psql_UpstreamSeesGatewayUser_NotTheClientName()
    {
        var (code, stdout, stderr) = await GatewayFixture.RunAsync("psql", TestToken, "-X", "-A", "-t", fx.Libpq(), "-c", "select current_user, current_database()");
        Assert.True(code == 0, stderr);
        Assert.Equal("appliance_gw|orders", stdout.Trim());
    }

    [Fact]
    public async Task Psql_CopyOutAndIn_RoundTripsRows()
    {
        var file = Path.Combine(fx.Env.Directory, $"copy-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(file, string.Join('\n', Enumerable.Range(1, 500).Select(i => $"{i},{i * 2}")) + "\n");
        var (code, stdout, stderr) = await GatewayFixture.RunAsync("psql", DbaToken, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", fx.Libpq(),
            "-c", "create temp table t (a int, b int)",
            "-c", $"\\copy t from '{file}' csv",
            "-c", "select count(*), sum(b) from t",
            "-c", "\\copy (select a, b from t where a <= 3 order by a) to stdout csv");
        Assert.True(code == 0, stderr);
        Assert.Contains("500|250500", stdout);
        Assert.EndsWith("1,2\n2,4\n3,6\n", stdout);
    }

    [Fact]
    public async Task Psql_ErrorInOneStatement_NextStatementStillWorks()
    {
        var (code, stdout, stderr) = await GatewayFixture.RunAsync("psql", TestToken, "-X", "-A", "-t", fx.Libpq(),
            "-c", "select 1/0", "-c", "select 'still here'");
        Assert.Equal(0, code);
        Assert.Contains("division by zero", stderr);
        Assert.Equal("still here", stdout.Trim());
    }

    [Theory]
    [InlineData("simple")]
    [InlineData("extended")]
    [InlineData("prepared")]
    public async Task Pgbench_ShortRun_AllTransactionsSucceed(string mode)
    {
        string db = "orders";
        var init = await GatewayFixture.RunAsync("pgbench", DbaToken, "-i", "-s", "1", "-q", "--unlogged-tables", fx.Libpq(db));
        Assert.True(init.Code == 0, init.Stderr);
        var run = await GatewayFixture.RunAsync("pgbench", DbaToken, "-n", "-c", "4", "-j", "2", "-t", "100", "-M", mode, fx.Libpq(db));
        Assert.True(run.Code == 0, run.Stderr + run.Stdout);
        Assert.Contains("number of transactions actually processed: 400/400", run.Stdout);
    }

    [Fact]
    public async Task Npgsql_PreparedStatementsAndBatch_Work()
    {
        await using var conn = fx.Npgsql(TestToken);
        await conn.OpenAsync();
        await using (var cmd = new NpgsqlCommand("select name from customers where id = $1", conn))
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = 2 });
            await cmd.PrepareAsync();
            Assert.Equal("Alan Turing", await cmd.ExecuteScalarAsync());
            cmd.Parameters[0].Value = 3;
            Assert.Equal("Grace Hopper", await cmd.ExecuteScalarAsync());
        }
        await using var batch = new NpgsqlBatch(conn)
        {
            BatchCommands = { new("select count(*) from customers"), new("select sum(total) from orders"), new("select 'x' || 'y'") },
        };
        await using var reader = await batch.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(3L, reader.GetInt64(0));
        Assert.True(await reader.NextResultAsync() && await reader.ReadAsync());
        Assert.Equal(187.74m, reader.GetDecimal(0));
        Assert.True(await reader.NextResultAsync() && await reader.ReadAsync());
        Assert.Equal("xy", reader.GetString(0));
    }

    [Fact]
    public async Task Npgsql_CancelLongQuery_ReturnsPromptlyAndSessionSurvives()
    {
        await using var conn = fx.Npgsql(TestToken);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select pg_sleep(30)", conn);
        var started = System.Diagnostics.Stopwatch.StartNew();
        var running = cmd.ExecuteNonQueryAsync();
        // Cancel once the server is really running the sleep.
        await using (var probe = new NpgsqlConnection(fx.Env.Postgres.AdminConnectionString.Replace("Database=postgres", "Database=orders")))
        {
            await probe.OpenAsync();
            await using var wait = new NpgsqlCommand("select count(*) from pg_stat_activity where query = 'select pg_sleep(30)' and state = 'active'", probe);
            while ((long)(await wait.ExecuteScalarAsync())! == 0)
            {
                Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), "the query never started");
                await Task.Delay(20);
            }
        }
        cmd.Cancel();
        var error = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        Assert.Equal("57014", Assert.IsType<PostgresException>(error.InnerException).SqlState);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(20), $"cancel took {started.Elapsed}");
        await using var again = new NpgsqlCommand("select 7", conn);
        Assert.Equal(7, await again.ExecuteScalarAsync());
    }

    [Theory]
    [InlineData("md5db")]
    [InlineData("trustdb")]
    public async Task Upstream_Md5AndTrustLogins_Work(string target)
    {
        await using var conn = fx.Npgsql(TestToken, target);
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select current_user || ':' || count(*) from customers", conn);
        Assert.Equal((target == "md5db" ? "md5user" : "trustuser") + ":3", await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Sessions_TwoHundredConcurrent_AllServed()
    {
        var sessions = Enumerable.Range(0, 200).Select(async i =>
        {
            await using var conn = fx.Npgsql(TestToken);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("select $1::int * 2", conn) { Parameters = { new() { Value = i } } };
            return (int)(await cmd.ExecuteScalarAsync())!;
        });
        var results = await Task.WhenAll(sessions);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => i * 2), results);
    }
}

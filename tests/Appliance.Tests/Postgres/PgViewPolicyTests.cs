using Npgsql;

namespace Appliance.Tests.Postgres;

/// <summary>
/// A deny rule naming a table also covers the views that read it (target viewsdb: select on public.customers
/// is denied, other selects and DDL are allowed), whether the view was there at login, made later outside the
/// gateway, or made through it.
/// </summary>
[Collection(GatewayCollection.Name)]
public sealed class PgViewPolicyTests(GatewayFixture fx)
{
    private async Task<NpgsqlConnection> OpenAsync(string database = "viewsdb")
    {
        // Npgsql loads its types first (SELECT version(), then the catalog): built-in calls pass the deny rule.
        var conn = fx.Npgsql(fx.Env.Token("test"), database: database);
        await conn.OpenAsync();
        return conn;
    }

    private static async Task<object?> ScalarAsync(NpgsqlConnection conn, string sql)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }

    /// <summary>The view over the allowed table answers through the gateway as it does directly.</summary>
    private async Task AssertOrderTotalsAsync(NpgsqlConnection conn)
    {
        string direct = await fx.Env.Postgres.PsqlAsync("select count(*) from reports.order_totals", database: "orders");
        Assert.Equal(long.Parse(direct.Trim()), await ScalarAsync(conn, "select count(*) from reports.order_totals"));
    }

    private static async Task<string> RefusedAsync(NpgsqlConnection conn, string sql)
    {
        var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(conn, sql));
        Assert.Equal("42501", error.SqlState);
        return error.MessageText;
    }

    [Fact]
    public async Task ViewOverDeniedTable_Refused_NamingTheTableItReads()
    {
        await using var conn = await OpenAsync();
        Assert.Contains("select on public.customers is denied", await RefusedAsync(conn, "select count(*) from public.customers"));
        string message = await RefusedAsync(conn, "select count(*) from reports.customer_emails");
        Assert.Contains("statement refused by rule 1", message);
        Assert.Contains("select on reports.customer_emails (views reading public.customers) is denied", message);
        Assert.Contains("public.customers", await RefusedAsync(conn, "select email from reports.nested"));
        // A view over an allowed table works, and so does the session after the refusals.
        await AssertOrderTotalsAsync(conn);
    }

    [Fact]
    public async Task FunctionsTheGatewayCannotSeeInto_Refused_BuiltInsAllowed()
    {
        await using var conn = await OpenAsync();
        Assert.Contains("it calls reports.card_of", await RefusedAsync(conn, "select reports.card_of(customer_id) from reports.order_totals"));
        Assert.Contains("it calls reports.card_of", await RefusedAsync(conn, "select reports.card_of(1)"));
        Assert.Contains("it calls query_to_xml", await RefusedAsync(conn, "select query_to_xml('select * from public.customers', true, false, '')"));
        // Through views: one calling the function, and one over that.
        Assert.Contains("a view it reads calls a function the gateway cannot see into", await RefusedAsync(conn, "select count(*) from reports.cards_by_order"));
        Assert.Contains("a view it reads calls a function the gateway cannot see into", await RefusedAsync(conn, "select count(*) from reports.cards_nested"));
        Assert.Equal("1", await ScalarAsync(conn, "select coalesce(null, 1)::text || substr(version(), 1, 0) where now() is not null"));
        await AssertOrderTotalsAsync(conn);
    }

    [Fact]
    public async Task TrustedFunctions_PassTheDenyRule_DirectlyAndThroughViews_OthersStillRefused()
    {
        // trusteddb is viewsdb with trusted_functions: [reports.safe_*].
        await using var trusted = await OpenAsync("trusteddb");
        await using var plain = await OpenAsync();
        Assert.Equal("X", await ScalarAsync(trusted, "select reports.safe_upper('x')"));
        Assert.Contains("it calls reports.safe_upper", await RefusedAsync(plain, "select reports.safe_upper('x')"));
        string direct = await fx.Env.Postgres.PsqlAsync("select count(*) from reports.safe_totals", database: "orders");
        Assert.Equal(long.Parse(direct.Trim()), await ScalarAsync(trusted, "select count(*) from reports.safe_totals"));
        Assert.Contains("a view it reads calls", await RefusedAsync(plain, "select count(*) from reports.safe_totals"));
        // Trust is about calls only: a view over the denied table is still refused, and so are other functions.
        Assert.Contains("views reading public.customers", await RefusedAsync(trusted, "select count(*) from reports.safe_emails"));
        Assert.Contains("it calls reports.card_of", await RefusedAsync(trusted, "select reports.card_of(1)"));
        // The refusal names the call that is not trusted, not every call.
        string both = await RefusedAsync(trusted, "select reports.safe_upper(reports.card_of(1))");
        Assert.Contains("(it calls reports.card_of; a function the gateway cannot see into", both);
        Assert.DoesNotContain("safe_upper", both);
        Assert.Contains("a view it reads calls", await RefusedAsync(trusted, "select count(*) from reports.cards_nested"));
        // Without a schema the name could reach public.safe_upper, which is not trusted (it reads the table).
        Assert.Contains("it calls safe_upper", await RefusedAsync(trusted, "select safe_upper('x')"));
    }

    [Fact]
    public async Task ViewOverDeniedTable_PreparedStatement_RefusedAtParse()
    {
        await using var conn = await OpenAsync();
        await using var cmd = new NpgsqlCommand("select email from reports.customer_emails where id = $1", conn) { Parameters = { new() { Value = 1 } } };
        var error = await Assert.ThrowsAsync<PostgresException>(async () => { await cmd.PrepareAsync(); await cmd.ExecuteScalarAsync(); });
        Assert.Equal("42501", error.SqlState);
        Assert.Contains("views reading public.customers", error.MessageText);
        await AssertOrderTotalsAsync(conn);
    }

    [Fact]
    public async Task ViewMadeOutsideTheGateway_AfterTheCatalogWasRead_IsStillRefused()
    {
        await using var conn = await OpenAsync();
        // The catalog is read now, before the view exists.
        await AssertOrderTotalsAsync(conn);
        await fx.Env.Postgres.PsqlAsync("""
            CREATE VIEW reports.late_cards AS SELECT card_number FROM public.customers;
            GRANT SELECT ON reports.late_cards TO appliance_gw;
            """, database: "orders");
        try
        {
            Assert.Contains("views reading public.customers", await RefusedAsync(conn, "select card_number from reports.late_cards"));
        }
        finally
        {
            await fx.Env.Postgres.PsqlAsync("DROP VIEW reports.late_cards;", database: "orders");
        }
    }

    [Fact]
    public async Task ViewRedefinedOutsideTheGateway_SeenOnceTheCatalogIsOlderThanItsMaxAge()
    {
        // refreshdb: catalog_max_age 1ms, so the redefinition below is read before the next statement.
        await fx.Env.Postgres.PsqlAsync("""
            CREATE VIEW reports.swapped AS SELECT id FROM public.orders;
            GRANT SELECT ON reports.swapped TO appliance_gw;
            """, database: "orders");
        try
        {
            await using var conn = fx.Npgsql(fx.Env.Token("test"), database: "refreshdb");
            await conn.OpenAsync();
            string orders = await fx.Env.Postgres.PsqlAsync("select count(*) from public.orders", database: "orders");
            Assert.Equal(long.Parse(orders.Trim()), await ScalarAsync(conn, "select count(*) from reports.swapped"));
            await fx.Env.Postgres.PsqlAsync("CREATE OR REPLACE VIEW reports.swapped AS SELECT id FROM public.customers;", database: "orders");
            Assert.Contains("views reading public.customers", await RefusedAsync(conn, "select count(*) from reports.swapped"));
        }
        finally
        {
            await fx.Env.Postgres.PsqlAsync("DROP VIEW reports.swapped;", database: "orders");
        }
    }

    [Fact]
    public async Task ViewsMadeThroughTheGateway_OverTheDeniedTableRefused_OverOthersDecidedByWhatTheyRead()
    {
        await using var conn = await OpenAsync();
        await AssertOrderTotalsAsync(conn);
        // Making the view reads the table too (directly, or through a view): refused before it exists.
        Assert.Contains("public.customers", await RefusedAsync(conn, "create view public.my_cards as select card_number from public.customers"));
        Assert.Contains("views reading public.customers", await RefusedAsync(conn, "create view public.my_emails as select email from reports.customer_emails"));
        await ScalarAsync(conn, "create view public.my_totals as select * from reports.order_totals");
        try
        {
            Assert.Equal(
                long.Parse((await fx.Env.Postgres.PsqlAsync("select count(*) from public.my_totals", database: "orders")).Trim()),
                await ScalarAsync(conn, "select count(*) from public.my_totals"));
        }
        finally
        {
            await ScalarAsync(conn, "drop view public.my_totals");
        }
    }

    [Fact]
    public async Task CatalogThatCannotBeRead_RefusesTheStatement_AndTheSessionGoesOn()
    {
        // limituser may hold one connection: the session's own. The gateway's catalog connection is refused.
        await using var conn = fx.Npgsql(fx.Env.Token("test"), database: "nocatalogdb", extra: "Server Compatibility Mode=NoTypeLoading");
        await conn.OpenAsync();
        for (int i = 0; i < 2; i++)
        {
            var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(conn, "select count(*) from public.orders"));
            Assert.Equal("08006", error.SqlState);
            Assert.Contains("needs the catalog of target \"nocatalogdb\"", error.MessageText);
            Assert.Contains("too many connections", error.MessageText);
        }
        Assert.Equal(System.Data.ConnectionState.Open, conn.State);
    }

    [Fact]
    public async Task RelationThatDoesNotExist_GetsTheServersError_AndTheSessionGoesOn()
    {
        await using var conn = await OpenAsync();
        var error = await Assert.ThrowsAsync<PostgresException>(() => ScalarAsync(conn, "select * from reports.no_such_view"));
        Assert.Equal("42P01", error.SqlState);
        await AssertOrderTotalsAsync(conn);
    }
}

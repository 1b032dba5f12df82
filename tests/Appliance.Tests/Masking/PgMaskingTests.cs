using System.Text.RegularExpressions;
using Npgsql;

namespace Appliance.Tests.Masking;

/// <summary>
/// Masking end to end with psql and Npgsql against a real PostgreSQL: every known way around a column mask
/// is either masked or refused, and unmasked columns arrive exactly as stored.
/// </summary>
public sealed partial class PgMaskingTests(MaskingFixture fx) : IClassFixture<MaskingFixture>
{
    private const string Email = MaskingFixture.SentinelEmail;
    private const string Card = MaskingFixture.SentinelCard;

    [GeneratedRegex("^[0-9a-f]{16}$")]
    private static partial Regex HashPattern();

    /// <summary>Nothing of the sentinel's masked values, forwards or backwards, whole or as its hidden part.</summary>
    private static void AssertNoSecret(string output)
    {
        Assert.DoesNotContain("sentinel-7f3a", output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("a3f7-lenitnes", output, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("400012341234", output);
        Assert.DoesNotContain("432143210004", output);
    }

    [Fact]
    public async Task SelectStar_MasksEachColumnByItsStrategy_AndKeepsTheOthersExact()
    {
        var (code, stdout, stderr) = await fx.PsqlAsync("test", "select * from customers where id = 4");
        Assert.True(code == 0, stderr);
        var fields = stdout.Trim().Split('|');
        Assert.Equal("4", fields[0]);
        Assert.Equal("Sentinel Person", fields[1]);
        Assert.Matches(HashPattern(), fields[2]);
        Assert.Equal("************1234", fields[3]);

        var unmasked = await fx.PsqlAsync("test", "select id, name from customers order by id");
        Assert.Equal(await fx.DirectAsync("select id, name from customers order by id"), unmasked.Stdout);
    }

    [Theory]
    [InlineData("select email as e from customers")]
    [InlineData("select email::text from customers")]
    [InlineData("select upper(email) from customers")]
    [InlineData("select email || '' from customers")]
    [InlineData("select reverse(card_number) from customers")]
    [InlineData("select substr(card_number, 1, 12) from customers")]
    [InlineData("select (select email from customers where id = 4)")]
    [InlineData("select * from (select email, card_number from customers) s")]
    [InlineData("with c as (select email, card_number from customers) select * from c")]
    [InlineData("with c as (select upper(email) u from customers) select u from c")]
    [InlineData("select row_to_json(customers) from customers")]
    [InlineData("select customers::text from customers")]
    [InlineData("select c from customers c")]
    [InlineData("select to_json(c) from customers as c")]
    [InlineData("select json_agg(c.*) from customers c")]
    [InlineData("select string_agg(email, ',') from customers")]
    [InlineData("select x.email from customers x where x.id = 4")]
    [InlineData("select \"email\" from public.\"customers\"")]
    [InlineData("select email from customers union all select 'x'")]
    [InlineData("table customers")]
    [InlineData("select email, card_number from customers for update")]
    public async Task ExpressionsAliasesSubqueriesAndWholeRows_AreMasked(string sql)
    {
        var (code, stdout, stderr) = await fx.PsqlAsync("test", sql);
        Assert.True(code == 0, stderr);
        AssertNoSecret(stdout + stderr);
    }

    [Theory]
    [InlineData("select * from customer_emails", "view over masked column public.customers.email")]
    [InlineData("select * from nested_emails", "view over masked column public.customers.email")]
    [InlineData("select * from customer_cards", "view over masked column public.customers.card_number")]
    [InlineData("select get_email(4)", "a function the gateway cannot see into")]
    [InlineData("select * from public.get_email(4)", "a function the gateway cannot see into")]
    [InlineData("copy (select email from customers) to stdout", "COPY (query) TO reads masked columns")]
    [InlineData("copy customers to stdout (format binary)", "binary COPY of a masked table")]
    [InlineData("create table leak as select * from customers", "writes or returns values of masked columns")]
    [InlineData("insert into notes select id, email from customers", "writes or returns values of masked columns")]
    [InlineData("create view leak_view as select email from customers", "writes or returns values of masked columns")]
    [InlineData("update customers set name = email where id = 4 returning name", "writes or returns values of masked columns")]
    [InlineData("select pg_notify('masking', email) from customers", "outlives the statement")]
    [InlineData("select most_common_vals::text from pg_stats where tablename = 'customers'", "shows sample values of columns")]
    [InlineData("select ts_stat('select to_tsvector(email) from customers')", "reads a query or table named in a string")]
    [InlineData("select query_to_xml('select email from customers', true, false, '')", "reads a query or table named in a string")]
    public async Task RoutesAroundTheMask_AreRefusedWith42501(string sql, string reason)
    {
        await using var conn = fx.Npgsql("test");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        var e = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteNonQueryAsync());
        Assert.Equal("42501", e.SqlState);
        Assert.Contains(reason, e.MessageText);
        // The session stays usable.
        await using var next = new NpgsqlCommand("select name from customers where id = 4", conn);
        Assert.Equal("Sentinel Person", await next.ExecuteScalarAsync());
    }

    [Fact]
    public async Task SqlCallSyntax_CoalesceGreatest_IsNotAFunctionTheGatewayCannotSeeInto()
    {
        var (code, stdout, stderr) = await fx.PsqlAsync("test", "select coalesce(name, '') || greatest(1, 2) from customers where id = 4");
        Assert.True(code == 0, stderr);
        Assert.Equal("Sentinel Person2", stdout.Trim());
    }

    [Fact]
    public async Task ViewWithoutMaskedColumns_IsAllowed()
    {
        var (code, stdout, stderr) = await fx.PsqlAsync("test", "select name from customer_names where id = 4");
        Assert.True(code == 0, stderr);
        Assert.Equal("Sentinel Person", stdout.Trim());
    }

    [Fact]
    public async Task Npgsql_BinaryResults_PreparedAndUnprepared_AreMasked_AndHashMatchesPsql()
    {
        var psql = await fx.PsqlAsync("test", "select email from customers where id = 4");
        string psqlHash = psql.Stdout.Trim();
        Assert.Matches(HashPattern(), psqlHash);

        await using var conn = fx.Npgsql("test");
        await conn.OpenAsync();
        for (int round = 0; round < 2; round++)
        {
            await using var cmd = new NpgsqlCommand("select id, name, email, card_number from customers where id = $1", conn);
            cmd.Parameters.Add(new NpgsqlParameter { Value = 4 });
            if (round == 1) await cmd.PrepareAsync();
            await using var reader = await cmd.ExecuteReaderAsync();
            Assert.True(await reader.ReadAsync());
            Assert.Equal(4, reader.GetInt32(0));
            Assert.Equal("Sentinel Person", reader.GetString(1));
            Assert.Equal(psqlHash, reader.GetString(2));
            Assert.Equal("************1234", reader.GetString(3));
        }
    }

    [Fact]
    public async Task Hash_IsStableAcrossSessions_DistinctForDistinctValues_AndGroupsAsTheOriginal()
    {
        var first = await fx.PsqlAsync("test", "select email from customers order by id");
        var second = await fx.PsqlAsync("test", "select email from customers order by id");
        Assert.Equal(first.Stdout, second.Stdout);
        var hashes = first.Stdout.Trim().Split('\n');
        Assert.Equal(4, hashes.Length);
        Assert.All(hashes, h => Assert.Matches(HashPattern(), h));
        Assert.Equal(4, hashes.Distinct().Count());

        var grouped = await fx.PsqlAsync("test", "select email, count(*) from customers group by email order by 1");
        Assert.True(grouped.Code == 0, grouped.Stderr);
        Assert.Equal(hashes.Order(StringComparer.Ordinal), grouped.Stdout.Trim().Split('\n').Select(l => l.Split('|')[0]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Partial_KeepsTheLastCharacters_AndTheLength()
    {
        var masked = await fx.PsqlAsync("test", "select card_number from customers order by id");
        var clear = await fx.DirectAsync("select card_number from customers order by id");
        var pairs = masked.Stdout.Trim().Split('\n').Zip(clear.Trim().Split('\n'));
        foreach (var (m, c) in pairs)
        {
            Assert.Equal(c.Length, m.Length);
            Assert.Equal(c[^4..], m[^4..]);
            Assert.Equal(new string('*', c.Length - 4), m[..^4]);
        }
    }

    [Fact]
    public async Task ExemptRole_SeesClearValues()
    {
        var (code, stdout, stderr) = await fx.PsqlAsync("dba", "select email, card_number from customers where id = 4");
        Assert.True(code == 0, stderr);
        Assert.Equal($"{Email}|{Card}", stdout.Trim());
    }

    [Theory]
    [InlineData("copy customers to stdout")]
    [InlineData("copy customers to stdout with csv header")]
    [InlineData("copy customers (email, name, card_number) to stdout (format csv, header true)")]
    [InlineData("copy public.customers to stdout (format text, delimiter '|', null 'NULL')")]
    [InlineData("\\copy customers to stdout csv")]
    public async Task CopyOut_TextAndCsv_AreMasked(string command)
    {
        var (code, stdout, stderr) = await fx.PsqlAsync("test", command);
        Assert.True(code == 0, stderr);
        AssertNoSecret(stdout);
        Assert.Contains("Sentinel Person", stdout);
        Assert.Contains("************1234", stdout);
    }

    [Fact]
    public async Task CursorFetch_IsMasked()
    {
        var (code, stdout, stderr) = await fx.PsqlAsync("test",
            "begin; declare c cursor for select email, card_number, upper(email) from customers where id = 4; fetch all from c; close c; commit;");
        Assert.True(code == 0, stderr);
        AssertNoSecret(stdout);
        Assert.Contains("************1234", stdout);
    }

    [Fact]
    public async Task ErrorQuotingAMaskedValue_IsWithheld()
    {
        await using var conn = fx.Npgsql("test");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select email::int from customers where id = 4", conn);
        var e = await Assert.ThrowsAsync<PostgresException>(() => cmd.ExecuteScalarAsync());
        Assert.Equal("22P02", e.SqlState);
        AssertNoSecret(e.MessageText + e.Detail + e.Where);
    }

    [Fact]
    public async Task CountWithoutMaskedColumns_IsNotMasked()
    {
        var (code, stdout, stderr) = await fx.PsqlAsync("test", "select count(*), max(id) from customers");
        Assert.True(code == 0, stderr);
        Assert.Equal("4|4", stdout.Trim());
    }

    [Fact]
    public async Task TableCreatedThroughTheGateway_IsReadableAfterTheCatalogCatchesUp()
    {
        var (code, _, stderr) = await fx.PsqlAsync("dba", "create table if not exists fresh_table (id int, label text); insert into fresh_table values (1, 'fresh')");
        Assert.True(code == 0, stderr);
        var read = await fx.PsqlAsync("test", "select label from fresh_table");
        Assert.True(read.Code == 0, read.Stderr);
        Assert.Equal("fresh", read.Stdout.Trim());
        var own = await fx.PsqlAsync("test", "begin; create table own_rows (v text); insert into own_rows values ('mine'); select v from own_rows; rollback;");
        Assert.True(own.Code == 0, own.Stderr);
        Assert.Contains("mine", own.Stdout);
    }
}

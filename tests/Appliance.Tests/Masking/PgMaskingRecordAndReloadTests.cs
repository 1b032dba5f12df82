using System.Diagnostics;
using System.Text;
using Appliance.Demo;
using Appliance.Storage;
using Appliance.Tests.Postgres;
using Npgsql;

namespace Appliance.Tests.Masking;

/// <summary>The recording holds masked values only; a reload changes masks for sessions already open.</summary>
public sealed class PgMaskingRecordAndReloadTests : IAsyncLifetime
{
    private const string Sentinel = "recorded-sentinel-91c2@example.com";
    private DemoEnvironment _env = null!;

    public async Task InitializeAsync()
    {
        _env = await DemoEnvironment.StartAsync();
        await _env.Postgres.PsqlAsync($"SET ROLE {DemoEnvironment.UpstreamUser}; INSERT INTO customers VALUES (9, 'Recorded Person', '{Sentinel}', '4000999999990009');", database: "orders");
    }

    public async Task DisposeAsync() => await _env.DisposeAsync();

    private string Libpq => $"host=localhost port={_env.GatewayPort} dbname=orders user=ci sslmode=verify-full sslrootcert={_env.CaPath}";

    private NpgsqlConnection Npgsql(string principal) => new(
        $"Host=localhost;Port={_env.GatewayPort};Database=orders;Username=ci;Password={_env.Token(principal)};SSL Mode=VerifyFull;Root Certificate={_env.CaPath};Pooling=false");

    [Fact]
    public async Task SegmentStore_HoldsNoPlaintextOfAMaskedColumn()
    {
        var psql = await GatewayFixture.RunAsync("psql", _env.Token("test"), "-X", "-A", "-t", Libpq,
            "-c", "select * from customers", "-c", "select upper(email), email || '' from customers", "-c", "select email::int from customers where id = 9");
        Assert.Contains("withholds the server's message", psql.Stderr);
        Assert.DoesNotContain(Sentinel, psql.Stdout + psql.Stderr);
        await using (var conn = Npgsql("test"))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("select email, card_number from customers where id = $1", conn);
            cmd.Parameters.Add(new NpgsqlParameter { Value = 9 });
            await cmd.PrepareAsync();
            Assert.NotEqual(Sentinel, await cmd.ExecuteScalarAsync());
        }
        await _env.Host!.StopAsync();

        using var reader = StoreReader.Open(_env.Config.Record.Directory(_env.Config.StateDir));
        int rows = 0, masked = 0;
        var needle = Encoding.UTF8.GetBytes("recorded-sentinel");
        foreach (var record in reader.ReadAll())
        {
            Assert.True(record.Payload.Span.IndexOf(needle) < 0, $"record type {record.Type} of session {record.SessionId} holds the plaintext");
            if (record.Payload.Span.IndexOf("Recorded Person"u8) >= 0) rows++;
            if (record.Payload.Span.IndexOf("************0009"u8) >= 0) masked++;
        }
        // The rows were recorded, masked, not skipped.
        Assert.True(rows >= 1 && masked >= 2, $"expected the masked rows in the store, found {rows} with the name and {masked} with the masked card");
    }

    [Fact]
    public async Task Reload_ChangesTheMaskOfAnOpenSession_AtItsNextStatement()
    {
        await using var conn = Npgsql("test");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand("select email from customers where id = 9", conn);
        var hashed = (string)(await cmd.ExecuteScalarAsync())!;
        Assert.Matches("^[0-9a-f]{16}$", hashed);

        var yaml = await File.ReadAllTextAsync(_env.ConfigPath);
        await File.WriteAllTextAsync(_env.ConfigPath, yaml.Replace("""
                  - columns: [public.customers.email]
                    strategy: hash
            """, """
                  - columns: [public.customers.email]
                    strategy: redact
            """));
        Assert.Equal(200, await ReloadAsync());
        Assert.Equal("****", await cmd.ExecuteScalarAsync());

        // Exempting the role lifts the mask.
        yaml = await File.ReadAllTextAsync(_env.ConfigPath);
        await File.WriteAllTextAsync(_env.ConfigPath, yaml.Replace("exempt_roles: [dba]", "exempt_roles: [dba, test]"));
        Assert.Equal(200, await ReloadAsync());
        Assert.Equal(Sentinel, await cmd.ExecuteScalarAsync());
    }

    [Fact]
    public async Task UnsupportedType_BecomesNull_OrRefusesTheResult_AsConfigured()
    {
        await _env.Postgres.PsqlAsync($"SET ROLE {DemoEnvironment.UpstreamUser}; CREATE TABLE accounts (id int, balance numeric, pin int); INSERT INTO accounts VALUES (1, 10.5, 4242);", database: "orders");
        var yaml = await File.ReadAllTextAsync(_env.ConfigPath);
        await File.WriteAllTextAsync(_env.ConfigPath, yaml.Replace("""
            masking:
            """, """
            masking:
                  - columns: [public.accounts.pin]
                    strategy: redact
                  - columns: [public.accounts.balance]
                    strategy: redact
                    unsupported_types: refuse
            """));
        Assert.Equal(200, await ReloadAsync());

        await using var conn = Npgsql("test");
        await conn.OpenAsync();
        await using (var pin = new NpgsqlCommand("select id, pin from accounts", conn))
        await using (var reader = await pin.ExecuteReaderAsync())
        {
            Assert.True(await reader.ReadAsync());
            Assert.Equal(1, reader.GetInt32(0));
            Assert.True(reader.IsDBNull(1));
        }
        await using var balance = new NpgsqlCommand("select id, balance from accounts", conn);
        var e = await Assert.ThrowsAsync<PostgresException>(() => balance.ExecuteReaderAsync());
        Assert.Equal("42501", e.SqlState);
        Assert.Contains("cannot carry a mask", e.MessageText);
        await using var after = new NpgsqlCommand("select count(*) from accounts", conn);
        Assert.Equal(1L, await after.ExecuteScalarAsync());
    }

    private async Task<int> ReloadAsync()
    {
        var info = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST", "-H", $"Authorization: Bearer {_env.Token("dba")}", $"http://127.0.0.1:{_env.AdminPort}/v1/policy/reload" })
        {
            info.ArgumentList.Add(a);
        }
        var (_, output) = await PostgresProcess.RunCapturedAsync(info, CancellationToken.None);
        return int.Parse(output.Trim());
    }
}

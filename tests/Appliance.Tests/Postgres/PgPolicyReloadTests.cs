using System.Diagnostics;
using Appliance.Demo;
using Npgsql;

namespace Appliance.Tests.Postgres;

/// <summary>Policy reload through the admin API (with curl): atomic swap, open sessions follow, bad files keep the old policy.</summary>
public sealed class PgPolicyReloadTests : IAsyncLifetime
{
    private DemoEnvironment _env = null!;

    public async Task InitializeAsync() => _env = await DemoEnvironment.StartAsync();

    public async Task DisposeAsync() => await _env.DisposeAsync();

    private async Task<(int Code, string Body)> CurlReloadAsync(string token)
    {
        var info = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-s", "-w", "\n%{http_code}", "-X", "POST", "-H", $"Authorization: Bearer {token}", $"http://127.0.0.1:{_env.AdminPort}/v1/policy/reload" })
        {
            info.ArgumentList.Add(a);
        }
        var (_, output) = await PostgresProcess.RunCapturedAsync(info, CancellationToken.None);
        var lines = output.TrimEnd().Split('\n');
        return (int.Parse(lines[^1]), string.Join('\n', lines[..^1]));
    }

    private async Task<NpgsqlConnection> OpenAsync(string principal)
    {
        var conn = new NpgsqlConnection($"Host=localhost;Port={_env.GatewayPort};Database=orders;Username=ci;Password={_env.Token(principal)};SSL Mode=VerifyFull;Root Certificate={_env.CaPath};Pooling=false");
        await conn.OpenAsync();
        return conn;
    }

    [Fact]
    public async Task Reload_NewRule_OpenSessionFollowsAtNextStatement()
    {
        await using var conn = await OpenAsync("test");
        await using var insert = new NpgsqlCommand("insert into orders (id, customer_id, total) values (300, 1, 5)", conn);
        Assert.Equal("42501", (await Assert.ThrowsAsync<PostgresException>(() => insert.ExecuteNonQueryAsync())).SqlState);

        var yaml = await File.ReadAllTextAsync(_env.ConfigPath);
        await File.WriteAllTextAsync(_env.ConfigPath, yaml.Replace("allow: [select, transaction, session]", "allow: [select, insert, transaction, session]"));
        var (code, body) = await CurlReloadAsync(_env.Token("dba"));
        Assert.Equal(200, code);
        Assert.Contains("\"policy_version\":2", body);

        Assert.Equal(1, await insert.ExecuteNonQueryAsync());
    }

    [Fact]
    public async Task Reload_InvalidFile_RejectedWithReasonAndOldPolicyStays()
    {
        await using var conn = await OpenAsync("test");
        var yaml = await File.ReadAllTextAsync(_env.ConfigPath);
        await File.WriteAllTextAsync(_env.ConfigPath, yaml.Replace("allow: [select, transaction, session]", "allow: [select, teleport]"));
        var (code, body) = await CurlReloadAsync(_env.Token("dba"));
        Assert.Equal(422, code);
        Assert.Contains("unknown statement class", body);
        Assert.Contains("\"policy_version\":1", body);
        await using var select = new NpgsqlCommand("select count(*) from customers", conn);
        Assert.Equal(3L, await select.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Reload_WithoutAdminRole_Forbidden()
    {
        var (code, body) = await CurlReloadAsync(_env.Token("test"));
        Assert.Equal(403, code);
        Assert.Contains("has no admin role", body);
        var (anonymous, _) = await CurlReloadAsync("not-a-token");
        Assert.Equal(401, anonymous);
    }
}

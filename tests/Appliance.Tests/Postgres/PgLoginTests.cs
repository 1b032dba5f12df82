using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using Appliance.Demo;
using Appliance.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Npgsql;

namespace Appliance.Tests.Postgres;

/// <summary>Login through the gateway: token checks, role admission, upstream failures, bad first packets.</summary>
[Collection(GatewayCollection.Name)]
public sealed class PgLoginTests(GatewayFixture fx)
{
    private static readonly Dictionary<string, object> s_testClaims = new() { ["repository"] = "acme/shop", ["job_workflow_ref"] = "acme/shop/.github/workflows/ci.yml@refs/heads/main" };

    private async Task<PostgresException> LoginFails(string token, string database = "orders")
    {
        await using var conn = fx.Npgsql(token, database);
        return await Assert.ThrowsAsync<PostgresException>(() => conn.OpenAsync());
    }

    public static TheoryData<string> BadTokens => ["none", "hs256", "unknown-kid", "bad-signature", "wrong-issuer", "wrong-audience", "expired", "not-yet-valid", "malformed"];

    private string MakeBadToken(string kind)
    {
        var env = fx.Env;
        switch (kind)
        {
            case "none":
                static string B64(string s) => Base64UrlEncoder.Encode(s);
                return B64("""{"alg":"none","typ":"JWT"}""") + "." + B64($$"""{"iss":"{{DemoEnvironment.Issuer}}","aud":"appliance","sub":"x","exp":{{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()}}}""") + ".";
            case "hs256":
                var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(new string('k', 64)));
                return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
                {
                    Issuer = DemoEnvironment.Issuer, Audience = "appliance", Expires = DateTime.UtcNow.AddHours(1),
                    Claims = new Dictionary<string, object>(s_testClaims) { ["sub"] = "x" },
                    SigningCredentials = new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
                });
            case "unknown-kid":
                return new TokenMinter(SigningKeys.Generate("ES256")).Mint(DemoEnvironment.Issuer, "appliance", "x", TimeSpan.FromHours(1), s_testClaims);
            case "bad-signature":
                var parts = env.Mint("x", s_testClaims).Split('.');
                var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace("acme/shop", "acme/shoq");
                return parts[0] + "." + Base64UrlEncoder.Encode(payload) + "." + parts[2];
            case "wrong-issuer":
                return env.Mint("x", s_testClaims, issuer: "https://evil.example");
            case "wrong-audience":
                return env.Mint("x", s_testClaims, audience: "someone-else");
            case "expired":
                return env.Mint("x", s_testClaims, lifetime: TimeSpan.FromMinutes(5), notBefore: DateTimeOffset.UtcNow.AddHours(-1));
            case "not-yet-valid":
                return env.Mint("x", s_testClaims, notBefore: DateTimeOffset.UtcNow.AddHours(1));
            default:
                return "this-is-not-a-jwt";
        }
    }

    [Theory]
    [MemberData(nameof(BadTokens))]
    public async Task Login_BadToken_RefusedWithDistinctReasonAndNoEcho(string kind)
    {
        var token = MakeBadToken(kind);
        var error = await LoginFails(token);
        Assert.Equal("28P01", error.SqlState);
        Assert.StartsWith("token rejected: ", error.MessageText);
        Assert.DoesNotContain(token, error.MessageText);
        string expected = kind switch
        {
            "none" => "'none'",
            "hs256" => "HS256",
            "unknown-kid" => "key id",
            "bad-signature" => "signature",
            "wrong-issuer" => "issuer",
            "wrong-audience" => "audience",
            "expired" => "expired",
            "not-yet-valid" => "not valid before",
            _ => "well-formed",
        };
        Assert.Contains(expected, error.MessageText, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Login_BadTokens_AllReasonsDiffer()
    {
        var reasons = new HashSet<string>();
        foreach (var kind in BadTokens)
        {
            reasons.Add((await LoginFails(MakeBadToken(kind))).MessageText);
        }
        Assert.Equal(BadTokens.Count, reasons.Count);
    }

    [Fact]
    public async Task Login_PrincipalWithoutRoleOnTarget_Refused()
    {
        var error = await LoginFails(fx.Env.Token("outsider"));
        Assert.Equal("28000", error.SqlState);
        Assert.Contains("has no role allowed on target \"orders\"", error.MessageText);
        var dbaOnly = await LoginFails(fx.Env.Token("test"), "dbaonly");
        Assert.Contains("its roles: test", dbaOnly.MessageText);
    }

    [Fact]
    public async Task Login_RoleAllowedOnTarget_Admitted()
    {
        await using var conn = fx.Npgsql(fx.Env.Token("dba"), "dbaonly");
        await conn.OpenAsync();
        Assert.Equal(System.Data.ConnectionState.Open, conn.State);
    }

    [Fact]
    public async Task Login_UnknownDatabase_RefusedNamingIt()
    {
        var error = await LoginFails(fx.Env.Token("test"), "nosuchdb");
        Assert.Equal("3D000", error.SqlState);
        Assert.Contains("no target named \"nosuchdb\"", error.MessageText);
    }

    [Fact]
    public async Task Login_UpstreamDown_FatalNamesTarget()
    {
        var error = await LoginFails(fx.Env.Token("test"), "downdb");
        Assert.Equal("08006", error.SqlState);
        Assert.Contains("upstream of target 'downdb' cannot reach", error.MessageText);
    }

    [Fact]
    public async Task Login_UpstreamRefusesGatewayPassword_FatalNamesTarget()
    {
        var error = await LoginFails(fx.Env.Token("test"), "wrongpassword");
        Assert.Equal("28000", error.SqlState);
        Assert.Contains("upstream of target 'wrongpassword' refused the gateway's login", error.MessageText);
        Assert.DoesNotContain("not-the-password", error.MessageText);
    }

    [Fact]
    public async Task Psql_RefusedToken_PrintsReason()
    {
        var (code, _, stderr) = await GatewayFixture.RunAsync("psql", "garbage", "-X", fx.Libpq(), "-c", "select 1");
        Assert.Equal(2, code);
        Assert.Contains("token rejected: token is not a well-formed JWT", stderr);
    }

    [Fact]
    public async Task Psql_OptionsStartupParameter_Refused()
    {
        var (code, _, stderr) = await GatewayFixture.RunAsync("psql", fx.Env.Token("test"), "-X", fx.Libpq() + " options='-c role=postgres'", "-c", "select 1");
        Assert.Equal(2, code);
        Assert.Contains("'options' (PGOPTIONS) is not allowed", stderr);
    }

    private async Task<byte[]> SendRawAsync(byte[] packet)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync("127.0.0.1", fx.Port);
        await socket.SendAsync(packet);
        var received = new List<byte>();
        var buffer = new byte[4096];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        int n;
        while ((n = await socket.ReceiveAsync(buffer, timeout.Token)) > 0)
        {
            received.AddRange(buffer.AsSpan(0, n).ToArray());
        }
        return received.ToArray();
    }

    private static string ErrorMessage(byte[] response)
    {
        Assert.True(response.Length > 5 && response[0] == (byte)'E', "expected an ErrorResponse");
        int length = BinaryPrimitives.ReadInt32BigEndian(response.AsSpan(1));
        var fields = Encoding.UTF8.GetString(response, 5, length - 4).Split('\0');
        return fields.First(f => f.StartsWith('M'))[1..] + " [" + fields.First(f => f.StartsWith('C'))[1..] + "]";
    }

    [Theory]
    [InlineData(0x7FFF_FFF0)]   // oversized
    [InlineData(3)]             // shorter than its own header
    public async Task FirstPacket_BadLength_RefusedCleanlyAndOthersServed(int length)
    {
        var packet = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(packet, length);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), 196608);
        var message = ErrorMessage(await SendRawAsync(packet));
        Assert.Contains("invalid startup packet length", message);
        Assert.Contains("[08P01]", message);
        await Login_RoleAllowedOnTarget_Admitted();
    }

    [Fact]
    public async Task FirstPacket_Garbage_RefusedCleanly()
    {
        var message = ErrorMessage(await SendRawAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n"u8.ToArray()));
        Assert.Contains("[08P01]", message);
    }

    [Fact]
    public async Task FirstPacket_Protocol2_RefusedNamingVersion()
    {
        var packet = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(packet, 16);
        BinaryPrimitives.WriteInt32BigEndian(packet.AsSpan(4), 2 << 16);
        var message = ErrorMessage(await SendRawAsync(packet));
        Assert.Contains("unsupported frontend protocol 2.0", message);
        Assert.Contains("[0A000]", message);
    }

    [Fact]
    public async Task GssEncRequest_AnsweredNo_ThenSslWorks()
    {
        var (code, stdout, stderr) = await GatewayFixture.RunAsync("psql", fx.Env.Token("test"), "-X", "-A", "-t", fx.Libpq() + " gssencmode=prefer", "-c", "select 'ok'");
        Assert.True(code == 0, stderr);
        Assert.Equal("ok", stdout.Trim());
    }
}

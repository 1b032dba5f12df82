using System.Text.Json;
using Appliance.Identity;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Appliance.Tests.Identity;

public sealed class SigningKeysTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("appliance-keys-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Theory]
    [InlineData("RS256")]
    [InlineData("ES256")]
    public async Task WriteAndRead_PemAndJwks_TokenFromReloadedKeyVerifies(string algorithm)
    {
        var pemPath = Path.Combine(_directory, "issuer.pem");
        var jwksPath = Path.Combine(_directory, "jwks.json");
        var generated = SigningKeys.Generate(algorithm);
        SigningKeys.WritePrivateKeyPem(generated, pemPath);
        SigningKeys.WriteJwks(jwksPath, generated);

        var loaded = SigningKeys.ReadPrivateKeyPem(pemPath);
        var time = new ManualTimeProvider(TestIssuer.Start);
        var token = new TokenMinter(loaded, time: time).Mint(
            "https://demo.example.test", "appliance", "demo-user", TimeSpan.FromMinutes(5),
            new Dictionary<string, object> { ["groups"] = new[] { "dba", "dev" }, ["repository"] = "acme/shop" });
        var issuer = new global::Appliance.Configuration.IssuerConfig
        {
            Name = "demo",
            Issuer = "https://demo.example.test",
            Audiences = ["appliance"],
            JwksFile = jwksPath,
        };
        using var verifier = new JwtVerifier(new global::Appliance.Configuration.IdentityConfig { Issuers = [issuer] }, RoleMapper.Empty,
            new JwtVerifierOptions { TimeProvider = time });

        var result = await verifier.VerifyAsync(token, default);

        Assert.Equal(generated.KeyId, loaded.KeyId);
        Assert.Equal(algorithm, new JsonWebToken(token).Alg);
        Assert.Equal(loaded.KeyId, new JsonWebToken(token).Kid);
        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(["dba", "dev"], result.Principal.Claims["groups"]);
    }

    [Fact]
    public void ExportJwks_RsaAndEcKeys_PublicMembersOnlyWithKid()
    {
        var json = SigningKeys.ExportJwks([TestIssuer.Rs256Key, TestIssuer.Es256Key]);

        using var doc = JsonDocument.Parse(json);
        var keys = doc.RootElement.GetProperty("keys").EnumerateArray().ToArray();
        Assert.Equal(2, keys.Length);
        Assert.Equal("RSA", keys[0].GetProperty("kty").GetString());
        Assert.Equal(TestIssuer.Rs256Key.KeyId, keys[0].GetProperty("kid").GetString());
        Assert.Equal("EC", keys[1].GetProperty("kty").GetString());
        Assert.Equal("P-256", keys[1].GetProperty("crv").GetString());
        foreach (var key in keys)
        {
            foreach (var privateMember in new[] { "d", "p", "q", "dp", "dq", "qi", "k" })
            {
                Assert.False(key.TryGetProperty(privateMember, out _), privateMember);
            }
        }
    }

    [Fact]
    public void KeyIdOf_Rfc7638Example_MatchesPublishedThumbprint()
    {
        // RFC 7638 section 3.1.
        const string n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        var rsa = System.Security.Cryptography.RSA.Create();
        rsa.ImportParameters(new System.Security.Cryptography.RSAParameters
        {
            Modulus = System.Buffers.Text.Base64Url.DecodeFromChars(n),
            Exponent = System.Buffers.Text.Base64Url.DecodeFromChars("AQAB"),
        });

        var kid = SigningKeys.KeyIdOf(new Microsoft.IdentityModel.Tokens.RsaSecurityKey(rsa));

        Assert.Equal("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs", kid);
    }

    [Fact]
    public void WritePrivateKeyPem_OnUnix_OwnerOnlyPermissions()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix file modes only
        }
        var path = Path.Combine(_directory, "key.pem");
        File.WriteAllText(path, "old");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        SigningKeys.WritePrivateKeyPem(TestIssuer.Es256Key, path);

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----", File.ReadAllText(path));
    }

    [Fact]
    public void Mint_RegisteredClaimInExtras_Throws()
    {
        var minter = new TokenMinter(TestIssuer.Es256Key);

        Assert.Throws<ArgumentException>(() => minter.Mint("i", "a", "s", TimeSpan.FromMinutes(1),
            new Dictionary<string, object> { ["aud"] = "other" }));
    }

    [Fact]
    public void Generate_UnsupportedAlgorithm_Throws()
    {
        Assert.Throws<ArgumentException>(() => SigningKeys.Generate("HS256"));
    }
}

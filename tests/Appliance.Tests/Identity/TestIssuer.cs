using System.Buffers.Text;
using System.Text;
using Appliance.Configuration;
using Appliance.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Appliance.Tests.Identity;

/// <summary>A throwaway issuer: a key pair, its JWKS file in a temp directory, a fake clock and a minter.</summary>
internal sealed class TestIssuer : IDisposable
{
    public const string Url = "https://token.actions.example.test";
    public const string Audience = "appliance";
    public const string Subject = "repo:acme/shop:ref:refs/heads/main";
    public static readonly DateTimeOffset Start = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    // Key generation is slow (RSA); tests share these, which are never mutated.
    public static readonly AsymmetricSecurityKey Rs256Key = SigningKeys.Generate("RS256");
    public static readonly AsymmetricSecurityKey Es256Key = SigningKeys.Generate("ES256");
    public static readonly AsymmetricSecurityKey OtherRsaKey = SigningKeys.Generate("RS256");

    public TestIssuer(AsymmetricSecurityKey? key = null)
    {
        Key = key ?? Rs256Key;
        Directory = System.IO.Directory.CreateTempSubdirectory("appliance-identity-").FullName;
        JwksPath = Path.Combine(Directory, "jwks.json");
        SigningKeys.WriteJwks(JwksPath, Key);
        Minter = new TokenMinter(Key, time: Time);
    }

    public ManualTimeProvider Time { get; } = new(Start);

    public AsymmetricSecurityKey Key { get; }

    public TokenMinter Minter { get; }

    public string Directory { get; }

    public string JwksPath { get; }

    public IssuerConfig Config() => new()
    {
        Name = "ci",
        Issuer = Url,
        Audiences = [Audience],
        JwksFile = JwksPath,
    };

    public IdentityConfig Identity(IssuerConfig? issuer = null) => new() { Issuers = [issuer ?? Config()] };

    public JwtVerifier Verifier(IssuerConfig? issuer = null, RoleMapper? roles = null, HttpClient? http = null, int cacheCapacity = 10_000) =>
        new(Identity(issuer), roles ?? RoleMapper.Empty, new JwtVerifierOptions
        {
            TimeProvider = Time,
            HttpClient = http,
            CacheCapacity = cacheCapacity,
        });

    public string Mint(
        IReadOnlyDictionary<string, object>? claims = null,
        TimeSpan? lifetime = null,
        string issuer = Url,
        string audience = Audience,
        DateTimeOffset? notBefore = null) =>
        Minter.Mint(issuer, audience, Subject, lifetime ?? TimeSpan.FromMinutes(10), claims, notBefore);

    /// <summary>Signs an arbitrary payload with this issuer's key, for tokens Mint refuses to make.</summary>
    public string SignRaw(string payloadJson) =>
        new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }
            .CreateToken(payloadJson, new SigningCredentials(Key, SigningKeys.DefaultAlgorithm(Key)));

    public long UnixSeconds(TimeSpan fromStart) => (Start + fromStart).ToUnixTimeSeconds();

    /// <summary>header.payload.signature with the given JSON, unsigned (for alg none and friends).</summary>
    public static string Unsigned(string headerJson, string payloadJson, string signature = "") =>
        $"{Encode(headerJson)}.{Encode(payloadJson)}.{signature}";

    public static string Encode(string json) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(json));

    public static string DecodeSegment(string segment) => Encoding.UTF8.GetString(Base64Url.DecodeFromChars(segment));

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

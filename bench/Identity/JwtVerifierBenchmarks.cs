using Appliance.Configuration;
using Appliance.Identity;
using BenchmarkDotNet.Attributes;

namespace Appliance.Bench.Identity;

/// <summary>
/// Token verification at login. Cached: the same CI token on another connection (a digest and a dictionary
/// hit: connection churn pays this). Uncached: the full Microsoft.IdentityModel check, signature included,
/// for RS256 and ES256 keys (a new token, or the cache disabled).
/// </summary>
[MemoryDiagnoser]
public class JwtVerifierBenchmarks
{
    private const string Issuer = "https://issuer.bench.invalid";
    private const string Audience = "appliance";

    private string _directory = "";
    private JwtVerifier _cached = null!;
    private JwtVerifier _uncached = null!;
    private string _rsToken = "";
    private string _esToken = "";

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("appliance-bench-jwt-").FullName;
        var rsa = SigningKeys.Generate("RS256");
        var ec = SigningKeys.Generate("ES256");
        var jwks = Path.Combine(_directory, "jwks.json");
        SigningKeys.WriteJwks(jwks, rsa, ec);
        var identity = new IdentityConfig
        {
            Issuers = [new IssuerConfig { Name = "ci", Issuer = Issuer, Audiences = [Audience], JwksFile = jwks }],
        };
        var roles = new RoleMapper([new RoleConfig { Name = "test", Claims = new(StringComparer.Ordinal) { ["repository"] = "acme/*" } }]);
        _cached = new JwtVerifier(identity, roles);
        _uncached = new JwtVerifier(identity, roles, new JwtVerifierOptions { CacheCapacity = 0 });
        // Claims shaped like a GitHub Actions token's, so payload parsing costs what it does in CI.
        var claims = new Dictionary<string, object>(StringComparer.Ordinal)
        {
            ["repository"] = "acme/shop",
            ["repository_owner"] = "acme",
            ["ref"] = "refs/heads/main",
            ["job_workflow_ref"] = "acme/shop/.github/workflows/ci.yml@refs/heads/main",
            ["environment"] = "production",
            ["run_id"] = "9876543210",
            ["actor"] = "octocat",
        };
        _rsToken = new TokenMinter(rsa).Mint(Issuer, Audience, "repo:acme/shop:ref:refs/heads/main", TimeSpan.FromHours(2), claims);
        _esToken = new TokenMinter(ec).Mint(Issuer, Audience, "repo:acme/shop:ref:refs/heads/main", TimeSpan.FromHours(2), claims);
        if (!Verify(_cached, _rsToken) || !Verify(_uncached, _rsToken) || !Verify(_uncached, _esToken))
        {
            throw new InvalidOperationException("benchmark tokens do not verify");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _cached.Dispose();
        _uncached.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    private static bool Verify(JwtVerifier verifier, string token)
    {
        var pending = verifier.VerifyAsync(token, CancellationToken.None);
        // Keys come from a file loaded at start: verification completes synchronously.
        return (pending.IsCompleted ? pending.Result : pending.AsTask().GetAwaiter().GetResult()).IsSuccess;
    }

    [Benchmark(Baseline = true)]
    public bool Cached_RS256() => Verify(_cached, _rsToken);

    [Benchmark]
    public bool Uncached_RS256() => Verify(_uncached, _rsToken);

    [Benchmark]
    public bool Uncached_ES256() => Verify(_uncached, _esToken);
}

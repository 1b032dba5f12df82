using System.Net;
using Appliance.Configuration;
using Appliance.Identity;

namespace Appliance.Tests.Identity;

public sealed class JwtVerifierJwksUriTests : IDisposable
{
    private const string JwksUri = "https://idp.example.test/.well-known/jwks";

    private readonly TestIssuer _issuer = new();
    private readonly TokenMinter _rotatedMinter;

    public JwtVerifierJwksUriTests() => _rotatedMinter = new TokenMinter(TestIssuer.OtherRsaKey, time: _issuer.Time);

    public void Dispose() => _issuer.Dispose();

    [Fact]
    public async Task VerifyAsync_JwksFromLoopbackServer_FetchedAndAccepted()
    {
        await using var server = LoopbackJwksServer.Start(SigningKeys.ExportJwks([_issuer.Key]));
        using var verifier = _issuer.Verifier(UriConfig(server.Uri));

        var result = await verifier.VerifyAsync(_issuer.Mint(), default);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(1, server.Requests);
    }

    [Fact]
    public async Task VerifyAsync_KnownKid_FetchesOnlyOnce()
    {
        var handler = new JwksHandler(SigningKeys.ExportJwks([_issuer.Key]));
        using var verifier = Verifier(handler);

        var first = await verifier.VerifyAsync(_issuer.Mint(), default);
        _issuer.Time.Advance(TimeSpan.FromMinutes(2));
        var second = await verifier.VerifyAsync(_issuer.Mint(), default);

        Assert.True(first.IsSuccess, first.ToString());
        Assert.True(second.IsSuccess, second.ToString());
        Assert.Equal(1, handler.Requests);
    }

    [Fact]
    public async Task VerifyAsync_KeyRotatedAtIdp_RefetchedOnUnknownKid()
    {
        var handler = new JwksHandler(SigningKeys.ExportJwks([_issuer.Key]));
        using var verifier = Verifier(handler);
        Assert.True((await verifier.VerifyAsync(_issuer.Mint(), default)).IsSuccess);

        // The IdP publishes a new key and starts signing with it.
        handler.Jwks = SigningKeys.ExportJwks([_issuer.Key, TestIssuer.OtherRsaKey]);
        _issuer.Time.Advance(TimeSpan.FromSeconds(31));
        var rotated = await verifier.VerifyAsync(MintRotated(), default);

        Assert.True(rotated.IsSuccess, rotated.ToString());
        Assert.Equal(2, handler.Requests);
    }

    [Fact]
    public async Task VerifyAsync_TwoUnknownKidsWithinInterval_OneFetch()
    {
        var handler = new JwksHandler(SigningKeys.ExportJwks([_issuer.Key]));
        using var verifier = Verifier(handler);
        Assert.True((await verifier.VerifyAsync(_issuer.Mint(), default)).IsSuccess);
        _issuer.Time.Advance(TimeSpan.FromSeconds(31));

        var first = await verifier.VerifyAsync(MintWithKid("made-up-1"), default);
        _issuer.Time.Advance(TimeSpan.FromSeconds(10));
        var second = await verifier.VerifyAsync(MintWithKid("made-up-2"), default);

        Assert.Equal(IdentityFailure.UnknownKey, first.Failure);
        Assert.Equal(IdentityFailure.UnknownKey, second.Failure);
        Assert.Equal(2, handler.Requests); // the initial fetch plus one refresh
    }

    [Fact]
    public async Task VerifyAsync_UnknownKidFloodAfterInterval_RefetchesOncePerInterval()
    {
        var handler = new JwksHandler(SigningKeys.ExportJwks([_issuer.Key]));
        using var verifier = Verifier(handler);
        Assert.True((await verifier.VerifyAsync(_issuer.Mint(), default)).IsSuccess);

        for (var i = 0; i < 100; i++)
        {
            _issuer.Time.Advance(TimeSpan.FromSeconds(1));
            Assert.Equal(IdentityFailure.UnknownKey, (await verifier.VerifyAsync(MintWithKid($"kid-{i}"), default)).Failure);
        }

        // 100 seconds at one refresh per 30 seconds: the initial fetch and three refreshes.
        Assert.Equal(4, handler.Requests);
    }

    [Fact]
    public async Task VerifyAsync_ConcurrentUnknownKids_ShareOneFetch()
    {
        var handler = new JwksHandler(SigningKeys.ExportJwks([_issuer.Key, TestIssuer.OtherRsaKey]))
        {
            Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously),
        };
        using var verifier = Verifier(handler);
        var token = MintRotated();

        var pending = Enumerable.Range(0, 20).Select(_ => verifier.VerifyAsync(token, default).AsTask()).ToArray();
        handler.Gate.SetResult();
        var results = await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(10));

        Assert.All(results, r => Assert.True(r.IsSuccess, r.ToString()));
        Assert.Equal(1, handler.Requests);
    }

    [Fact]
    public async Task VerifyAsync_IdpDown_RefusedAsKeysUnavailableThenRecovers()
    {
        var handler = new JwksHandler(SigningKeys.ExportJwks([_issuer.Key])) { Status = HttpStatusCode.ServiceUnavailable };
        using var verifier = Verifier(handler);
        var token = _issuer.Mint();

        var down = await verifier.VerifyAsync(token, default);
        var stillWaiting = await verifier.VerifyAsync(token, default);
        handler.Status = HttpStatusCode.OK;
        _issuer.Time.Advance(TimeSpan.FromSeconds(31));
        var recovered = await verifier.VerifyAsync(token, default);

        Assert.Equal(IdentityFailure.KeysUnavailable, down.Failure);
        Assert.Equal($"signing keys for issuer 'ci' are unavailable: {JwksUri}: HTTP 503", down.Reason);
        TokenLeak.AssertAbsent(down.Reason, token);
        Assert.Equal(IdentityFailure.KeysUnavailable, stillWaiting.Failure);
        Assert.True(recovered.IsSuccess, recovered.ToString());
        Assert.Equal(2, handler.Requests);
    }

    [Fact]
    public async Task VerifyAsync_RefreshFails_KeepsPreviousKeys()
    {
        var handler = new JwksHandler(SigningKeys.ExportJwks([_issuer.Key]));
        using var verifier = Verifier(handler);
        Assert.True((await verifier.VerifyAsync(_issuer.Mint(), default)).IsSuccess);

        handler.Jwks = "{ broken";
        _issuer.Time.Advance(TimeSpan.FromSeconds(31));
        var unknown = await verifier.VerifyAsync(MintWithKid("new-kid"), default);
        var known = await verifier.VerifyAsync(_issuer.Mint(), default);

        Assert.Equal(IdentityFailure.UnknownKey, unknown.Failure);
        Assert.True(known.IsSuccess, known.ToString());
        Assert.Equal(2, handler.Requests);
    }

    [Fact]
    public async Task VerifyAsync_FetchedKeysOlderThanMaxAge_Refetched()
    {
        var handler = new JwksHandler(SigningKeys.ExportJwks([_issuer.Key]));
        using var verifier = Verifier(handler);
        Assert.True((await verifier.VerifyAsync(_issuer.Mint(), default)).IsSuccess);

        _issuer.Time.Advance(TimeSpan.FromMinutes(61));
        Assert.True((await verifier.VerifyAsync(_issuer.Mint(), default)).IsSuccess);

        Assert.Equal(2, handler.Requests);
    }

    [Fact]
    public async Task VerifyAsync_UnsupportedAlgorithmToken_NeverFetchesKeys()
    {
        var handler = new JwksHandler(SigningKeys.ExportJwks([_issuer.Key]));
        using var verifier = Verifier(handler);

        var result = await verifier.VerifyAsync(TestIssuer.Unsigned("""{"alg":"HS256","kid":"x"}""",
            $$"""{"iss":"{{TestIssuer.Url}}"}""", "c2ln"), default);

        Assert.Equal(IdentityFailure.AlgorithmNotAllowed, result.Failure);
        Assert.Equal(0, handler.Requests);
    }

    [Fact]
    public async Task ReloadKeysAsync_UriIssuer_RefetchesIgnoringRateLimit()
    {
        var handler = new JwksHandler(SigningKeys.ExportJwks([_issuer.Key]));
        using var verifier = Verifier(handler);
        Assert.True((await verifier.VerifyAsync(_issuer.Mint(), default)).IsSuccess);
        handler.Jwks = SigningKeys.ExportJwks([TestIssuer.OtherRsaKey]);

        var problems = await verifier.ReloadKeysAsync(default);

        Assert.Empty(problems);
        Assert.Equal(2, handler.Requests);
        Assert.True((await verifier.VerifyAsync(MintRotated(), default)).IsSuccess);
    }

    private JwtVerifier Verifier(JwksHandler handler) =>
        _issuer.Verifier(UriConfig(JwksUri), http: new HttpClient(handler));

    private IssuerConfig UriConfig(string uri)
    {
        var config = _issuer.Config();
        config.JwksFile = null;
        config.JwksUri = uri;
        config.JwksRefreshInterval = TimeSpan.FromSeconds(30);
        return config;
    }

    private string MintRotated() =>
        _rotatedMinter.Mint(TestIssuer.Url, TestIssuer.Audience, TestIssuer.Subject, TimeSpan.FromMinutes(5));

    private string MintWithKid(string kid)
    {
        var key = new Microsoft.IdentityModel.Tokens.RsaSecurityKey(((Microsoft.IdentityModel.Tokens.RsaSecurityKey)TestIssuer.OtherRsaKey).Rsa) { KeyId = kid };
        return new TokenMinter(key, time: _issuer.Time).Mint(TestIssuer.Url, TestIssuer.Audience, TestIssuer.Subject, TimeSpan.FromMinutes(5));
    }
}

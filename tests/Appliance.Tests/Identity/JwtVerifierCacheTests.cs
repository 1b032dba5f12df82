using Appliance.Identity;

namespace Appliance.Tests.Identity;

public sealed class JwtVerifierCacheTests : IDisposable
{
    private readonly TestIssuer _issuer = new();

    public void Dispose() => _issuer.Dispose();

    [Fact]
    public async Task VerifyAsync_SameTokenTwice_ReturnsCachedPrincipal()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.Mint();

        var first = await verifier.VerifyAsync(token, default);
        var second = await verifier.VerifyAsync(token, default);

        Assert.True(second.IsSuccess, second.ToString());
        Assert.Same(first.Principal, second.Principal);
        Assert.Equal(1, verifier.CachedTokenCount);
    }

    [Fact]
    public async Task VerifyAsync_CacheHit_CompletesSynchronously()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.Mint();
        await verifier.VerifyAsync(token, default);

        var hit = verifier.VerifyAsync(token, default);

        Assert.True(hit.IsCompletedSuccessfully);
        Assert.True((await hit).IsSuccess);
    }

    [Fact]
    public async Task VerifyAsync_CachedTokenExpired_Refused()
    {
        var config = _issuer.Config();
        config.ClockSkew = TimeSpan.Zero;
        using var verifier = _issuer.Verifier(config);
        var token = _issuer.Mint(lifetime: TimeSpan.FromMinutes(2));
        Assert.True((await verifier.VerifyAsync(token, default)).IsSuccess);

        _issuer.Time.Advance(TimeSpan.FromMinutes(2) + TimeSpan.FromSeconds(1));
        var result = await verifier.VerifyAsync(token, default);

        Assert.Equal(IdentityFailure.Expired, result.Failure);
        Assert.Equal("token expired at 2030-01-01T12:02:00Z", result.Reason);
    }

    [Fact]
    public async Task VerifyAsync_CachedLongerThanFiveMinutes_Revalidated()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.Mint(lifetime: TimeSpan.FromHours(1));
        var first = await verifier.VerifyAsync(token, default);

        _issuer.Time.Advance(TimeSpan.FromMinutes(4));
        var cached = await verifier.VerifyAsync(token, default);
        _issuer.Time.Advance(TimeSpan.FromMinutes(2));
        var revalidated = await verifier.VerifyAsync(token, default);

        Assert.Same(first.Principal, cached.Principal);
        Assert.True(revalidated.IsSuccess, revalidated.ToString());
        Assert.NotSame(first.Principal, revalidated.Principal);
    }

    [Fact]
    public async Task VerifyAsync_MoreTokensThanCapacity_CacheStaysBounded()
    {
        using var verifier = _issuer.Verifier(cacheCapacity: 20);

        for (var i = 0; i < 100; i++)
        {
            var token = _issuer.Mint(new Dictionary<string, object> { ["run_id"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture) });
            Assert.True((await verifier.VerifyAsync(token, default)).IsSuccess);
            Assert.InRange(verifier.CachedTokenCount, 1, 20);
        }
    }

    [Fact]
    public async Task VerifyAsync_CacheDisabled_EveryCallValidates()
    {
        using var verifier = _issuer.Verifier(cacheCapacity: 0);
        var token = _issuer.Mint();

        var first = await verifier.VerifyAsync(token, default);
        var second = await verifier.VerifyAsync(token, default);

        Assert.True(second.IsSuccess);
        Assert.NotSame(first.Principal, second.Principal);
        Assert.Equal(0, verifier.CachedTokenCount);
    }

    [Fact]
    public async Task ReloadKeysAsync_AfterRotation_CachedTokensOfRemovedKeyRefused()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.Mint();
        Assert.True((await verifier.VerifyAsync(token, default)).IsSuccess);

        SigningKeys.WriteJwks(_issuer.JwksPath, TestIssuer.OtherRsaKey);
        await verifier.ReloadKeysAsync(default);

        Assert.Equal(IdentityFailure.UnknownKey, (await verifier.VerifyAsync(token, default)).Failure);
    }
}

using Appliance.Identity;
using CsCheck;

namespace Appliance.Tests.Identity;

/// <summary>Untrusted input must come back as a failure value, never as an exception.</summary>
public sealed class JwtVerifierHostileInputTests : IDisposable
{
    private readonly TestIssuer _issuer = new();

    public void Dispose() => _issuer.Dispose();

    [Theory]
    [InlineData("""{"alg":5}""", """{"iss":"https://token.actions.example.test"}""")]
    [InlineData("""{"alg":"RS256","kid":7}""", """{"iss":"https://token.actions.example.test"}""")]
    [InlineData("""{"alg":"RS256","kid":["a","b"]}""", """{"iss":"https://token.actions.example.test"}""")]
    [InlineData("""{"alg":"RS256"}""", """{"iss":42}""")]
    [InlineData("""{"alg":"RS256"}""", """{"iss":["https://token.actions.example.test"]}""")]
    [InlineData("""{"alg":"RS256"}""", """{"iss":"https://token.actions.example.test","exp":"soon"}""")]
    [InlineData("""{"alg":"RS256"}""", """{"iss":"https://token.actions.example.test","aud":{"x":1}}""")]
    [InlineData("""{"alg":"RS256"}""", """[1,2,3]""")]
    [InlineData("""[]""", """{}""")]
    [InlineData("""{"alg":"RS256","alg":"none"}""", """{"iss":"https://token.actions.example.test"}""")]
    [InlineData("""{"alg":"RS256"}""", """{"iss":"https://token.actions.example.test","iss":"https://evil.example.test"}""")]
    public async Task VerifyAsync_OddlyTypedHeaderOrClaims_RefusedWithoutThrowing(string header, string payload)
    {
        using var verifier = _issuer.Verifier();
        var token = TestIssuer.Unsigned(header, payload, "c2lnbmF0dXJlc2lnbmF0dXJl");

        var result = await verifier.VerifyAsync(token, default);

        Assert.False(result.IsSuccess);
        Assert.NotEqual(IdentityFailure.None, result.Failure);
        Assert.False(string.IsNullOrEmpty(result.Reason));
        TokenLeak.AssertAbsent(result.Reason, token);
    }

    [Fact]
    public async Task VerifyAsync_SignedPayloadWithOddClaimTypes_RefusedWithoutThrowing()
    {
        using var verifier = _issuer.Verifier();
        var exp = _issuer.UnixSeconds(TimeSpan.FromMinutes(5));
        string[] payloads =
        [
            $$"""{"iss":"{{TestIssuer.Url}}","aud":"{{TestIssuer.Audience}}","sub":"x","exp":"not a number"}""",
            $$"""{"iss":"{{TestIssuer.Url}}","aud":"{{TestIssuer.Audience}}","sub":["x","y"],"exp":{{exp}}}""",
            $$"""{"iss":"{{TestIssuer.Url}}","aud":"{{TestIssuer.Audience}}","sub":"","exp":{{exp}}}""",
            $$"""{"iss":"{{TestIssuer.Url}}","aud":"{{TestIssuer.Audience}}","sub":"x","exp":{{exp}},"nbf":{{exp + 60}}}""",
            // Parsers disagree on repeated names (first or last wins), so a repeat is refused outright.
            $$"""{"iss":"{{TestIssuer.Url}}","aud":"{{TestIssuer.Audience}}","sub":"x","sub":"admin","exp":{{exp}}}""",
        ];

        foreach (var payload in payloads)
        {
            var result = await verifier.VerifyAsync(_issuer.SignRaw(payload), default);
            Assert.False(result.IsSuccess, payload);
        }
    }

    [Fact]
    public async Task VerifyAsync_SignedExpAsNumericString_ReadAsTheLibraryDoes()
    {
        // Not RFC 7519 (exp is a JSON number), but unambiguous and signed by the issuer; the library accepts it.
        using var verifier = _issuer.Verifier();
        var exp = _issuer.UnixSeconds(TimeSpan.FromMinutes(5));

        var result = await verifier.VerifyAsync(_issuer.SignRaw(
            $$"""{"iss":"{{TestIssuer.Url}}","aud":"{{TestIssuer.Audience}}","sub":"x","exp":"{{exp}}"}"""), default);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(TestIssuer.Start + TimeSpan.FromMinutes(5), result.Principal.ExpiresAt);
    }

    [Fact]
    public async Task VerifyAsync_RandomlyCorruptedToken_NeverThrowsNorAcceptsChangedContent()
    {
        using var verifier = _issuer.Verifier(cacheCapacity: 0);
        var token = _issuer.Mint(new Dictionary<string, object> { ["repository"] = "acme/shop" });
        var alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.{}\"= ";
        var signatureStart = token.LastIndexOf('.');

        await Gen.Select(Gen.Int[0, token.Length - 1], Gen.Char[alphabet]).SampleAsync(async (at, c) =>
        {
            var corrupted = string.Concat(token.AsSpan(0, at), c.ToString(), token.AsSpan(at + 1));
            var result = await verifier.VerifyAsync(corrupted, default);
            // Only a change in the signature's unused trailing bits (or no change at all) may still verify.
            Assert.True(!result.IsSuccess || corrupted == token || at == token.Length - 1, $"{at} {c}");
            Assert.True(result.IsSuccess || result.Failure != IdentityFailure.None);
            Assert.True(at >= signatureStart || !result.IsSuccess || corrupted == token);
        }, iter: 2_000);
    }
}

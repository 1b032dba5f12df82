using System.Security.Cryptography;
using System.Text;
using Appliance.Configuration;
using Appliance.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Appliance.Tests.Identity;

public sealed class JwtVerifierTests : IDisposable
{
    private readonly TestIssuer _issuer = new();

    public void Dispose() => _issuer.Dispose();

    [Fact]
    public async Task VerifyAsync_Rs256Token_ReturnsPrincipal()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.Mint(new Dictionary<string, object>
        {
            ["repository"] = "acme/shop",
            ["groups"] = new[] { "dev", "dba" },
        });

        var result = await verifier.VerifyAsync(token, default);

        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(IdentityFailure.None, result.Failure);
        Assert.Equal("", result.Reason);
        var principal = result.Principal;
        Assert.Equal(TestIssuer.Subject, principal.Subject);
        Assert.Equal("ci", principal.Issuer);
        Assert.Equal(TestIssuer.Start + TimeSpan.FromMinutes(10), principal.ExpiresAt);
        Assert.Equal(["acme/shop"], principal.Claims["repository"]);
        Assert.Equal(["dev", "dba"], principal.Claims["groups"]);
        Assert.Equal([TestIssuer.Url], principal.Claims["iss"]);
        Assert.Empty(principal.Roles);
    }

    [Fact]
    public async Task VerifyAsync_Es256Token_ReturnsPrincipal()
    {
        using var issuer = new TestIssuer(TestIssuer.Es256Key);
        using var verifier = issuer.Verifier();

        var token = issuer.Mint();
        var result = await verifier.VerifyAsync(token, default);

        Assert.Equal("ES256", new JsonWebToken(token).Alg);
        Assert.True(result.IsSuccess, result.ToString());
        Assert.Equal(TestIssuer.Subject, result.Principal.Subject);
    }

    [Fact]
    public async Task VerifyAsync_ValidToken_ClaimsDigestIsSha256OfPayloadJson()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.Mint();

        var result = await verifier.VerifyAsync(token, default);

        var payload = Encoding.UTF8.GetBytes(TestIssuer.DecodeSegment(token.Split('.')[1]));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(payload)), result.Principal!.ClaimsDigest);
        Assert.DoesNotContain(token.Split('.')[2], result.Principal.ClaimsDigest);
    }

    [Fact]
    public async Task VerifyAsync_NumberAndBoolClaims_FlattenedToJsonText()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.Mint(new Dictionary<string, object> { ["run_attempt"] = 3, ["protected"] = true });

        var result = await verifier.VerifyAsync(token, default);

        Assert.Equal(["3"], result.Principal!.Claims["run_attempt"]);
        Assert.Equal(["true"], result.Principal.Claims["protected"]);
    }

    [Fact]
    public async Task VerifyAsync_MatchingRoleConfig_PrincipalHasRoles()
    {
        var roles = new RoleMapper(
        [
            new RoleConfig { Name = "test", Claims = { ["repository"] = "acme/shop", ["job_workflow_ref"] = "acme/shop/.github/workflows/ci.yml@*" } },
            new RoleConfig { Name = "deploy", Claims = { ["repository"] = "acme/shop", ["environment"] = "production" } },
            new RoleConfig { Name = "dba", Claims = { ["groups"] = "dba" } },
        ]);
        using var verifier = _issuer.Verifier(roles: roles);
        var token = _issuer.Mint(new Dictionary<string, object>
        {
            ["repository"] = "acme/shop",
            ["job_workflow_ref"] = "acme/shop/.github/workflows/ci.yml@refs/heads/main",
            ["groups"] = new[] { "dev", "dba" },
        });

        var result = await verifier.VerifyAsync(token, default);

        Assert.Equal(["test", "dba"], result.Principal!.Roles);
        Assert.True(result.Principal.HasRole("dba"));
        Assert.False(result.Principal.HasRole("deploy"));
    }

    [Fact]
    public async Task VerifyAsync_AlgNone_RefusedAsAlgorithmNone()
    {
        using var verifier = _issuer.Verifier();
        var token = TestIssuer.Unsigned("""{"alg":"none","typ":"JWT"}""", PayloadJson());

        var result = await verifier.VerifyAsync(token, default);

        AssertRefused(result, IdentityFailure.AlgorithmNone, "token uses alg 'none', which is never accepted", token);
    }

    [Fact]
    public async Task VerifyAsync_AlgNoneInOtherCase_RefusedAsAlgorithmNone()
    {
        using var verifier = _issuer.Verifier();
        var token = TestIssuer.Unsigned("""{"alg":"nOnE"}""", PayloadJson(), "c2ln");

        var result = await verifier.VerifyAsync(token, default);

        Assert.Equal(IdentityFailure.AlgorithmNone, result.Failure);
    }

    [Fact]
    public async Task VerifyAsync_Hs256SignedWithPublicKey_RefusedAsAlgorithmNotAllowed()
    {
        // The algorithm-confusion attack: HMAC keyed with the issuer's published key, under its kid.
        using var verifier = _issuer.Verifier();
        var secret = Encoding.UTF8.GetBytes(SigningKeys.ExportJwks([_issuer.Key]));
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = TestIssuer.Url,
            Audience = TestIssuer.Audience,
            Claims = new Dictionary<string, object> { ["sub"] = TestIssuer.Subject },
            IssuedAt = TestIssuer.Start.UtcDateTime,
            NotBefore = TestIssuer.Start.UtcDateTime,
            Expires = (TestIssuer.Start + TimeSpan.FromMinutes(5)).UtcDateTime,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(secret) { KeyId = _issuer.Key.KeyId }, SecurityAlgorithms.HmacSha256),
        });

        var result = await verifier.VerifyAsync(token, default);

        AssertRefused(result, IdentityFailure.AlgorithmNotAllowed, "token algorithm 'HS256' is not allowed for issuer 'ci'", token);
    }

    [Fact]
    public async Task VerifyAsync_Es256WhenIssuerAllowsOnlyRs256_RefusedAsAlgorithmNotAllowed()
    {
        using var issuer = new TestIssuer(TestIssuer.Es256Key);
        var config = issuer.Config();
        config.Algorithms = ["RS256"];
        using var verifier = issuer.Verifier(config);

        var result = await verifier.VerifyAsync(issuer.Mint(), default);

        Assert.Equal(IdentityFailure.AlgorithmNotAllowed, result.Failure);
        Assert.Equal("token algorithm 'ES256' is not allowed for issuer 'ci'", result.Reason);
    }

    [Fact]
    public async Task VerifyAsync_UnknownKid_RefusedAsUnknownKey()
    {
        using var verifier = _issuer.Verifier();
        var stranger = new TokenMinter(TestIssuer.OtherRsaKey, time: _issuer.Time);
        var token = stranger.Mint(TestIssuer.Url, TestIssuer.Audience, TestIssuer.Subject, TimeSpan.FromMinutes(5));

        var result = await verifier.VerifyAsync(token, default);

        AssertRefused(result, IdentityFailure.UnknownKey,
            $"token key id '{TestIssuer.OtherRsaKey.KeyId}' is not in the issuer's JWKS", token);
    }

    [Fact]
    public async Task VerifyAsync_TamperedPayload_RefusedAsBadSignature()
    {
        using var verifier = _issuer.Verifier();
        var parts = _issuer.Mint().Split('.');
        var payload = TestIssuer.DecodeSegment(parts[1]).Replace("refs/heads/main", "refs/heads/evil", StringComparison.Ordinal);
        var token = $"{parts[0]}.{TestIssuer.Encode(payload)}.{parts[2]}";

        var result = await verifier.VerifyAsync(token, default);

        AssertRefused(result, IdentityFailure.BadSignature, "token signature does not verify with issuer 'ci' keys", token);
    }

    [Fact]
    public async Task VerifyAsync_OtherKeyUnderKnownKid_RefusedAsBadSignature()
    {
        using var verifier = _issuer.Verifier();
        var impostorKey = new RsaSecurityKey(((RsaSecurityKey)TestIssuer.OtherRsaKey).Rsa) { KeyId = _issuer.Key.KeyId };
        var token = new TokenMinter(impostorKey, time: _issuer.Time)
            .Mint(TestIssuer.Url, TestIssuer.Audience, TestIssuer.Subject, TimeSpan.FromMinutes(5));

        var result = await verifier.VerifyAsync(token, default);

        Assert.Equal(IdentityFailure.BadSignature, result.Failure);
    }

    [Fact]
    public async Task VerifyAsync_UnconfiguredIssuer_RefusedAsUnknownIssuer()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.Mint(issuer: "https://evil.example.test");

        var result = await verifier.VerifyAsync(token, default);

        AssertRefused(result, IdentityFailure.UnknownIssuer, "token issuer 'https://evil.example.test' is not configured", token);
    }

    [Fact]
    public async Task VerifyAsync_HostileIssuerValue_EchoedEscapedAndCapped()
    {
        using var verifier = _issuer.Verifier();
        var hostile = "https://x/\n2030-01-01 ADMIN LOGIN OK '\u202e" + new string('A', 500);
        var token = _issuer.Mint(issuer: hostile);

        var result = await verifier.VerifyAsync(token, default);

        Assert.Equal(IdentityFailure.UnknownIssuer, result.Failure);
        Assert.DoesNotContain('\n', result.Reason);
        Assert.DoesNotContain('\u202e', result.Reason);
        Assert.Contains("\\u000a", result.Reason);
        Assert.Contains("...", result.Reason);
        Assert.True(result.Reason.Length < 200, result.Reason);
    }

    [Theory]
    [InlineData("a\nb", "a\\u000ab")]
    [InlineData("it's", "it\\u0027s")]
    [InlineData("\u202eevil", "\\u202eevil")]
    [InlineData("caf\u00e9", "caf\\u00e9")]
    public async Task VerifyAsync_IssuerWithUnprintableCharacters_EchoedAsEscapes(string iss, string echoed)
    {
        using var verifier = _issuer.Verifier();

        var result = await verifier.VerifyAsync(_issuer.Mint(issuer: iss), default);

        Assert.Equal($"token issuer '{echoed}' is not configured", result.Reason);
    }

    [Fact]
    public async Task VerifyAsync_LongIssuer_EchoCappedAtHundredCharacters()
    {
        using var verifier = _issuer.Verifier();

        var result = await verifier.VerifyAsync(_issuer.Mint(issuer: new string('x', 1000)), default);

        Assert.Equal($"token issuer '{new string('x', 100)}...' is not configured", result.Reason);
    }

    [Fact]
    public async Task VerifyAsync_MissingIssuer_RefusedAsUnknownIssuer()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.SignRaw($$"""{"sub":"x","aud":"{{TestIssuer.Audience}}","exp":{{_issuer.UnixSeconds(TimeSpan.FromMinutes(5))}}}""");

        var result = await verifier.VerifyAsync(token, default);

        AssertRefused(result, IdentityFailure.UnknownIssuer, "token has no 'iss' claim", token);
    }

    [Fact]
    public async Task VerifyAsync_WrongAudience_RefusedAsWrongAudience()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.Mint(audience: "sts.amazonaws.com");

        var result = await verifier.VerifyAsync(token, default);

        AssertRefused(result, IdentityFailure.WrongAudience, "token audience 'sts.amazonaws.com' is not accepted for issuer 'ci'", token);
    }

    [Fact]
    public async Task VerifyAsync_SecondConfiguredAudience_Accepted()
    {
        var config = _issuer.Config();
        config.Audiences = ["other", TestIssuer.Audience];
        using var verifier = _issuer.Verifier(config);

        var result = await verifier.VerifyAsync(_issuer.Mint(), default);

        Assert.True(result.IsSuccess, result.ToString());
    }

    [Fact]
    public async Task VerifyAsync_Expired_RefusedAsExpired()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.Mint(lifetime: TimeSpan.FromMinutes(5));
        _issuer.Time.Advance(TimeSpan.FromHours(1));

        var result = await verifier.VerifyAsync(token, default);

        AssertRefused(result, IdentityFailure.Expired, "token expired at 2030-01-01T12:05:00Z", token);
    }

    [Fact]
    public async Task VerifyAsync_NotBeforeInFuture_RefusedAsNotYetValid()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.Mint(notBefore: TestIssuer.Start + TimeSpan.FromMinutes(10));

        var result = await verifier.VerifyAsync(token, default);

        AssertRefused(result, IdentityFailure.NotYetValid, "token is not valid before 2030-01-01T12:10:00Z", token);
    }

    [Theory]
    [InlineData(0, true)]    // exactly at exp + skew: still valid
    [InlineData(1, false)]   // one second later: expired
    [InlineData(-1, true)]
    public async Task VerifyAsync_AroundExpiryPlusSkew_BoundaryRespected(int secondsPastSkew, bool accepted)
    {
        var config = _issuer.Config();
        config.ClockSkew = TimeSpan.FromSeconds(30);
        using var verifier = _issuer.Verifier(config, cacheCapacity: 0);
        var token = _issuer.Mint(lifetime: TimeSpan.FromMinutes(5));
        _issuer.Time.Advance(TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(30 + secondsPastSkew));

        var result = await verifier.VerifyAsync(token, default);

        Assert.Equal(accepted ? IdentityFailure.None : IdentityFailure.Expired, result.Failure);
    }

    [Theory]
    [InlineData(0, true)]    // exactly at nbf - skew: already valid
    [InlineData(1, false)]   // one second earlier: not yet valid
    [InlineData(-1, true)]
    public async Task VerifyAsync_AroundNotBeforeMinusSkew_BoundaryRespected(int secondsBeforeSkew, bool accepted)
    {
        var config = _issuer.Config();
        config.ClockSkew = TimeSpan.FromSeconds(30);
        using var verifier = _issuer.Verifier(config, cacheCapacity: 0);
        var notBefore = TestIssuer.Start + TimeSpan.FromMinutes(2);
        var token = _issuer.Mint(notBefore: notBefore);
        _issuer.Time.Set(notBefore - TimeSpan.FromSeconds(30 + secondsBeforeSkew));

        var result = await verifier.VerifyAsync(token, default);

        Assert.Equal(accepted ? IdentityFailure.None : IdentityFailure.NotYetValid, result.Failure);
    }

    [Fact]
    public async Task VerifyAsync_ZeroSkew_ExpiredOneSecondAfterExp()
    {
        var config = _issuer.Config();
        config.ClockSkew = TimeSpan.Zero;
        using var verifier = _issuer.Verifier(config, cacheCapacity: 0);
        var token = _issuer.Mint(lifetime: TimeSpan.FromMinutes(1));

        _issuer.Time.Advance(TimeSpan.FromMinutes(1));
        var atExp = await verifier.VerifyAsync(token, default);
        _issuer.Time.Advance(TimeSpan.FromSeconds(1));
        var after = await verifier.VerifyAsync(token, default);

        Assert.True(atExp.IsSuccess, atExp.ToString());
        Assert.Equal(IdentityFailure.Expired, after.Failure);
    }

    [Fact]
    public async Task VerifyAsync_NoExpClaim_RefusedAsMissingClaim()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.SignRaw($$"""{"iss":"{{TestIssuer.Url}}","aud":"{{TestIssuer.Audience}}","sub":"x"}""");

        var result = await verifier.VerifyAsync(token, default);

        AssertRefused(result, IdentityFailure.MissingClaim, "token has no 'exp' claim", token);
    }

    [Fact]
    public async Task VerifyAsync_NoSubClaim_RefusedAsMissingClaim()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.SignRaw($$"""{"iss":"{{TestIssuer.Url}}","aud":"{{TestIssuer.Audience}}","exp":{{_issuer.UnixSeconds(TimeSpan.FromMinutes(5))}}}""");

        var result = await verifier.VerifyAsync(token, default);

        AssertRefused(result, IdentityFailure.MissingClaim, "token has no 'sub' claim", token);
    }

    [Theory]
    [InlineData("not-a-jwt-garbage-value-1234")]
    [InlineData("aaaa.bbbb")]
    [InlineData("aaaa.bbbb.cccc.dddd")]
    [InlineData(".bbbb.cccc")]
    [InlineData("aaaa..cccc")]
    [InlineData("aaaa.bbbb.cc cc")]
    [InlineData("    ")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2lnbmF0dXJl")]   // payload is not JSON
    [InlineData("bm90IGpzb24.eyJzdWIiOiJ4In0.c2lnbmF0dXJl")]         // header is not JSON
    public async Task VerifyAsync_Garbage_RefusedAsMalformed(string token)
    {
        using var verifier = _issuer.Verifier();

        var result = await verifier.VerifyAsync(token, default);

        AssertRefused(result, IdentityFailure.Malformed, "token is not a well-formed JWT", token);
    }

    [Fact]
    public async Task VerifyAsync_EncryptedJwe_RefusedAsMalformedWithOwnReason()
    {
        using var verifier = _issuer.Verifier();

        var result = await verifier.VerifyAsync("aaaa.bbbb.cccc.dddd.eeee", default);

        Assert.Equal(IdentityFailure.Malformed, result.Failure);
        Assert.Equal("token is an encrypted JWT (JWE); only signed JWTs are accepted", result.Reason);
    }

    [Fact]
    public async Task VerifyAsync_NoAlgHeader_RefusedAsMalformed()
    {
        using var verifier = _issuer.Verifier();
        var token = TestIssuer.Unsigned("""{"typ":"JWT"}""", PayloadJson(), "c2ln");

        var result = await verifier.VerifyAsync(token, default);

        Assert.Equal(IdentityFailure.Malformed, result.Failure);
        Assert.Equal("token header has no 'alg'", result.Reason);
    }

    [Fact]
    public async Task VerifyAsync_EmptyString_RefusedAsEmpty()
    {
        using var verifier = _issuer.Verifier();

        var result = await verifier.VerifyAsync("", default);

        Assert.Equal(IdentityFailure.Empty, result.Failure);
        Assert.Equal("no token was presented", result.Reason);
        Assert.Null(result.Principal);
    }

    [Fact]
    public async Task VerifyAsync_HugeToken_RefusedAsTooLarge()
    {
        using var verifier = _issuer.Verifier();
        var token = _issuer.Mint(new Dictionary<string, object> { ["padding"] = new string('x', 20_000) });

        var result = await verifier.VerifyAsync(token, default);

        AssertRefused(result, IdentityFailure.TooLarge, "token is longer than 16384 characters", token);
    }

    [Fact]
    public async Task VerifyAsync_EveryFailureKind_HasItsOwnReason()
    {
        using var verifier = _issuer.Verifier();
        var stranger = new TokenMinter(TestIssuer.OtherRsaKey, time: _issuer.Time);
        var parts = _issuer.Mint().Split('.');
        var tampered = $"{parts[0]}.{TestIssuer.Encode(TestIssuer.DecodeSegment(parts[1]).Replace("acme", "evil", StringComparison.Ordinal))}.{parts[2]}";
        var tokens = new[]
        {
            "",
            "garbage",
            TestIssuer.Unsigned("""{"alg":"none"}""", PayloadJson()),
            TestIssuer.Unsigned("""{"alg":"HS256"}""", PayloadJson(), "c2ln"),
            _issuer.Mint(issuer: "https://elsewhere.example.test"),
            stranger.Mint(TestIssuer.Url, TestIssuer.Audience, TestIssuer.Subject, TimeSpan.FromMinutes(5)),
            tampered,
            _issuer.Mint(audience: "elsewhere"),
            _issuer.Mint(notBefore: TestIssuer.Start + TimeSpan.FromHours(1)),
        };

        var reasons = new List<string>();
        foreach (var token in tokens)
        {
            var result = await verifier.VerifyAsync(token, default);
            Assert.False(result.IsSuccess);
            reasons.Add(result.Reason);
        }
        var expired = _issuer.Mint(lifetime: TimeSpan.FromMinutes(1));
        _issuer.Time.Advance(TimeSpan.FromMinutes(10));
        reasons.Add((await verifier.VerifyAsync(expired, default)).Reason);

        Assert.Equal(reasons.Count, reasons.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task VerifyAsync_FailedToken_NotCached()
    {
        using var verifier = _issuer.Verifier();

        await verifier.VerifyAsync(_issuer.Mint(audience: "elsewhere"), default);

        Assert.Equal(0, verifier.CachedTokenCount);
    }

    [Fact]
    public async Task ReloadKeysAsync_RotatedJwksFile_NewKeyAccepted()
    {
        using var verifier = _issuer.Verifier();
        var rotated = new TokenMinter(TestIssuer.OtherRsaKey, time: _issuer.Time)
            .Mint(TestIssuer.Url, TestIssuer.Audience, TestIssuer.Subject, TimeSpan.FromMinutes(5));
        Assert.Equal(IdentityFailure.UnknownKey, (await verifier.VerifyAsync(rotated, default)).Failure);

        SigningKeys.WriteJwks(_issuer.JwksPath, TestIssuer.OtherRsaKey);
        var problems = await verifier.ReloadKeysAsync(default);

        Assert.Empty(problems);
        Assert.True((await verifier.VerifyAsync(rotated, default)).IsSuccess);
        Assert.Equal(IdentityFailure.UnknownKey, (await verifier.VerifyAsync(_issuer.Mint(), default)).Failure);
    }

    [Fact]
    public async Task ReloadKeysAsync_BrokenJwksFile_KeepsOldKeysAndReportsProblem()
    {
        using var verifier = _issuer.Verifier();
        await File.WriteAllTextAsync(_issuer.JwksPath, "{ not json");

        var problems = await verifier.ReloadKeysAsync(default);

        var problem = Assert.Single(problems);
        Assert.StartsWith("identity issuer 'ci': ", problem);
        Assert.True((await verifier.VerifyAsync(_issuer.Mint(), default)).IsSuccess);
    }

    [Fact]
    public async Task VerifyAsync_UnknownKidAfterJwksFileChanged_RereadsFileAfterInterval()
    {
        using var verifier = _issuer.Verifier();
        SigningKeys.WriteJwks(_issuer.JwksPath, _issuer.Key, TestIssuer.OtherRsaKey);
        var rotated = new TokenMinter(TestIssuer.OtherRsaKey, time: _issuer.Time)
            .Mint(TestIssuer.Url, TestIssuer.Audience, TestIssuer.Subject, TimeSpan.FromMinutes(5));

        var tooSoon = await verifier.VerifyAsync(rotated, default);
        _issuer.Time.Advance(TimeSpan.FromSeconds(31));
        var later = await verifier.VerifyAsync(rotated, default);

        Assert.Equal(IdentityFailure.UnknownKey, tooSoon.Failure);
        Assert.True(later.IsSuccess, later.ToString());
    }

    private string PayloadJson() =>
        $$"""{"iss":"{{TestIssuer.Url}}","aud":"{{TestIssuer.Audience}}","sub":"{{TestIssuer.Subject}}","exp":{{_issuer.UnixSeconds(TimeSpan.FromMinutes(5))}}}""";

    private static void AssertRefused(IdentityResult result, IdentityFailure failure, string reason, string token)
    {
        Assert.Equal(failure, result.Failure);
        Assert.Equal(reason, result.Reason);
        Assert.Null(result.Principal);
        Assert.False(result.IsSuccess);
        TokenLeak.AssertAbsent(result.Reason, token);
    }
}

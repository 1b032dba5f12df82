using Appliance.Configuration;
using Appliance.Identity;

namespace Appliance.Tests.Identity;

public sealed class JwtVerifierConfigTests : IDisposable
{
    private readonly TestIssuer _issuer = new();

    public void Dispose() => _issuer.Dispose();

    [Theory]
    [InlineData("HS256", "algorithm 'HS256' is not supported")]
    [InlineData("none", "algorithm 'none' is not supported")]
    public void Ctor_UnsafeAlgorithmConfigured_Throws(string algorithm, string expected)
    {
        var config = _issuer.Config();
        config.Algorithms = ["RS256", algorithm];

        var error = Assert.Throws<ArgumentException>(() => _issuer.Verifier(config));

        Assert.Contains("identity issuer 'ci': " + expected, error.Message);
    }

    [Fact]
    public void Ctor_NoAudience_Throws()
    {
        var config = _issuer.Config();
        config.Audiences = [];

        var error = Assert.Throws<ArgumentException>(() => _issuer.Verifier(config));

        Assert.Contains("audiences must list at least one", error.Message);
    }

    [Fact]
    public void Ctor_BothJwksFileAndUri_Throws()
    {
        var config = _issuer.Config();
        config.JwksUri = "https://idp.example.test/jwks";

        var error = Assert.Throws<ArgumentException>(() => _issuer.Verifier(config));

        Assert.Contains("exactly one of jwks_file and jwks_uri", error.Message);
    }

    [Fact]
    public void Ctor_PlainHttpJwksUriOffLoopback_Throws()
    {
        var config = _issuer.Config();
        config.JwksFile = null;
        config.JwksUri = "http://idp.example.test/jwks";

        var error = Assert.Throws<ArgumentException>(() => _issuer.Verifier(config));

        Assert.Contains("must be an absolute https:// URL", error.Message);
    }

    [Fact]
    public void Ctor_MissingJwksFile_ThrowsNamingIssuerAndFile()
    {
        var config = _issuer.Config();
        config.JwksFile = Path.Combine(_issuer.Directory, "absent.json");

        var error = Assert.Throws<ArgumentException>(() => _issuer.Verifier(config));

        Assert.Equal($"identity issuer 'ci': jwks_file '{config.JwksFile}': file does not exist", error.Message);
    }

    [Fact]
    public void Ctor_JwksFileWithPrivateKey_Throws()
    {
        var jwk = Microsoft.IdentityModel.Tokens.JsonWebKeyConverter.ConvertFromRSASecurityKey(
            new Microsoft.IdentityModel.Tokens.RsaSecurityKey(((Microsoft.IdentityModel.Tokens.RsaSecurityKey)_issuer.Key).Rsa.ExportParameters(true)) { KeyId = "leaked" });
        File.WriteAllText(_issuer.JwksPath, $$"""{"keys":[{"kty":"RSA","kid":"leaked","n":"{{jwk.N}}","e":"{{jwk.E}}","d":"{{jwk.D}}"}]}""");

        var error = Assert.Throws<ArgumentException>(() => _issuer.Verifier());

        Assert.Contains("key 'leaked' contains private or symmetric key material", error.Message);
    }

    [Fact]
    public void Ctor_JwksFileWithoutKeys_Throws()
    {
        File.WriteAllText(_issuer.JwksPath, """{"keys":[]}""");

        var error = Assert.Throws<ArgumentException>(() => _issuer.Verifier());

        Assert.Contains("no usable RSA or EC signing key", error.Message);
    }

    [Fact]
    public void Ctor_SameIssuerUrlTwice_Throws()
    {
        var second = _issuer.Config();
        second.Name = "ci2";
        var identity = new IdentityConfig { Issuers = [_issuer.Config(), second] };

        var error = Assert.Throws<ArgumentException>(() => new JwtVerifier(identity, RoleMapper.Empty));

        Assert.Contains("have the same issuer", error.Message);
    }

    [Fact]
    public void Ctor_NegativeClockSkew_Throws()
    {
        var config = _issuer.Config();
        config.ClockSkew = TimeSpan.FromSeconds(-1);

        Assert.Throws<ArgumentException>(() => _issuer.Verifier(config));
    }

    [Fact]
    public async Task VerifyAsync_TwoIssuers_EachTokenCheckedAgainstItsOwnKeys()
    {
        using var gitlab = new TestIssuer(TestIssuer.Es256Key);
        var gitlabConfig = gitlab.Config();
        gitlabConfig.Name = "gitlab";
        gitlabConfig.Issuer = "https://gitlab.example.test";
        var identity = new IdentityConfig { Issuers = [_issuer.Config(), gitlabConfig] };
        using var verifier = new JwtVerifier(identity, RoleMapper.Empty, new JwtVerifierOptions { TimeProvider = _issuer.Time });

        var fromGitlab = await verifier.VerifyAsync(
            gitlab.Minter.Mint("https://gitlab.example.test", TestIssuer.Audience, "project_path:acme/shop", TimeSpan.FromMinutes(5)), default);
        // Signed by the GitHub-like issuer's key, but claiming to come from GitLab.
        var forged = await verifier.VerifyAsync(
            _issuer.Minter.Mint("https://gitlab.example.test", TestIssuer.Audience, "project_path:acme/shop", TimeSpan.FromMinutes(5)), default);

        Assert.True(fromGitlab.IsSuccess, fromGitlab.ToString());
        Assert.Equal("gitlab", fromGitlab.Principal.Issuer);
        Assert.NotEqual(IdentityFailure.None, forged.Failure);
    }
}

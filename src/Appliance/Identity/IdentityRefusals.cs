using System.Globalization;

namespace Appliance.Identity;

/// <summary>
/// Every refusal message in one place, so each failure reads differently and none can leak the token:
/// only configuration values and <see cref="UntrustedText.Echo"/>-ed claim values go in.
/// </summary>
internal static class IdentityRefusals
{
    public static readonly IdentityResult Empty =
        IdentityResult.Fail(IdentityFailure.Empty, "no token was presented");

    public static readonly IdentityResult Malformed =
        IdentityResult.Fail(IdentityFailure.Malformed, "token is not a well-formed JWT");

    public static readonly IdentityResult Encrypted =
        IdentityResult.Fail(IdentityFailure.Malformed, "token is an encrypted JWT (JWE); only signed JWTs are accepted");

    public static readonly IdentityResult MissingAlgorithm =
        IdentityResult.Fail(IdentityFailure.Malformed, "token header has no 'alg'");

    public static readonly IdentityResult AlgorithmNone =
        IdentityResult.Fail(IdentityFailure.AlgorithmNone, "token uses alg 'none', which is never accepted");

    public static readonly IdentityResult MissingIssuer =
        IdentityResult.Fail(IdentityFailure.UnknownIssuer, "token has no 'iss' claim");

    public static readonly IdentityResult MissingExpiry =
        IdentityResult.Fail(IdentityFailure.MissingClaim, "token has no 'exp' claim");

    public static readonly IdentityResult MissingSubject =
        IdentityResult.Fail(IdentityFailure.MissingClaim, "token has no 'sub' claim");

    public static IdentityResult TooLarge(int maxLength) =>
        IdentityResult.Fail(IdentityFailure.TooLarge, $"token is longer than {maxLength} characters");

    public static IdentityResult AlgorithmNotAllowed(string algorithm, string issuerName) =>
        IdentityResult.Fail(IdentityFailure.AlgorithmNotAllowed,
            $"token algorithm '{UntrustedText.Echo(algorithm)}' is not allowed for issuer '{issuerName}'");

    public static IdentityResult UnknownIssuer(string issuer) =>
        IdentityResult.Fail(IdentityFailure.UnknownIssuer, $"token issuer '{UntrustedText.Echo(issuer)}' is not configured");

    public static IdentityResult UnknownKey(string keyId) =>
        IdentityResult.Fail(IdentityFailure.UnknownKey, $"token key id '{UntrustedText.Echo(keyId)}' is not in the issuer's JWKS");

    public static IdentityResult KeysUnavailable(string issuerName, string why) =>
        IdentityResult.Fail(IdentityFailure.KeysUnavailable, $"signing keys for issuer '{issuerName}' are unavailable: {why}");

    public static IdentityResult BadSignature(string issuerName) =>
        IdentityResult.Fail(IdentityFailure.BadSignature, $"token signature does not verify with issuer '{issuerName}' keys");

    public static IdentityResult WrongAudience(IEnumerable<string> audiences, string issuerName)
    {
        var presented = string.Join(", ", audiences);
        return IdentityResult.Fail(IdentityFailure.WrongAudience, presented.Length == 0
            ? $"token has no audience; issuer '{issuerName}' requires one"
            : $"token audience '{UntrustedText.Echo(presented)}' is not accepted for issuer '{issuerName}'");
    }

    public static IdentityResult Expired(DateTimeOffset expiredAt) =>
        IdentityResult.Fail(IdentityFailure.Expired, $"token expired at {Format(expiredAt)}");

    public static IdentityResult NotYetValid(DateTimeOffset notBefore) =>
        IdentityResult.Fail(IdentityFailure.NotYetValid, $"token is not valid before {Format(notBefore)}");

    public static IdentityResult Invalid(string what) =>
        IdentityResult.Fail(IdentityFailure.Invalid, $"token was rejected: {what}");

    private static string Format(DateTimeOffset t) =>
        t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

namespace Appliance.Identity;

/// <summary>Why a token was refused. <see cref="None"/> means it was accepted.</summary>
public enum IdentityFailure : byte
{
    None = 0,
    /// <summary>No token was presented at all.</summary>
    Empty,
    /// <summary>The token is longer than any real CI token; refused before parsing.</summary>
    TooLarge,
    /// <summary>Not three base64url segments with a JSON header and payload.</summary>
    Malformed,
    /// <summary>Header <c>alg</c> is <c>none</c>: unsigned tokens are never accepted.</summary>
    AlgorithmNone,
    /// <summary>Header <c>alg</c> is not on the issuer's allow-list (e.g. HS256).</summary>
    AlgorithmNotAllowed,
    /// <summary>The unverified <c>iss</c> names no configured issuer.</summary>
    UnknownIssuer,
    /// <summary>The header <c>kid</c> is not in the issuer's key set, even after a refresh.</summary>
    UnknownKey,
    /// <summary>The issuer's keys could not be loaded or fetched; the caller is not to blame.</summary>
    KeysUnavailable,
    /// <summary>The signature does not verify against the issuer's key.</summary>
    BadSignature,
    /// <summary>No <c>aud</c> value is among the issuer's configured audiences.</summary>
    WrongAudience,
    /// <summary><c>exp</c> is in the past (beyond the clock skew).</summary>
    Expired,
    /// <summary><c>nbf</c> is in the future (beyond the clock skew).</summary>
    NotYetValid,
    /// <summary>A claim the gateway requires (<c>sub</c>, <c>exp</c>) is absent.</summary>
    MissingClaim,
    /// <summary>Validation failed for a reason not covered above.</summary>
    Invalid,
}

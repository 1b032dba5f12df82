namespace Appliance.Identity;

/// <summary>A verified caller: who they are, who vouched for them, and which roles their claims earn.</summary>
public sealed class Principal
{
    /// <summary>Made by a verifier after the token checked out; nothing here is validated again.</summary>
    public Principal(
        string subject,
        string issuer,
        IReadOnlyList<string> roles,
        DateTimeOffset expiresAt,
        IReadOnlyDictionary<string, IReadOnlyList<string>> claims,
        string claimsDigest)
    {
        Subject = subject;
        Issuer = issuer;
        Roles = roles;
        ExpiresAt = expiresAt;
        Claims = claims;
        ClaimsDigest = claimsDigest;
    }

    /// <summary>The token's <c>sub</c> claim.</summary>
    public string Subject { get; }

    /// <summary>The configured name of the issuer that signed the token (not its URL).</summary>
    public string Issuer { get; }

    /// <summary>Roles whose claim matchers all matched, in configuration order.</summary>
    public IReadOnlyList<string> Roles { get; }

    /// <summary>The token's <c>exp</c>; sessions must not outlive it without re-authenticating.</summary>
    public DateTimeOffset ExpiresAt { get; }

    /// <summary>Payload claims as strings: arrays flattened to their elements, other non-strings as JSON text.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Claims { get; }

    /// <summary>Lower-case hex SHA-256 of the payload JSON, for audit records (never the token itself).</summary>
    public string ClaimsDigest { get; }

    /// <summary>True when the principal was granted <paramref name="role"/>.</summary>
    public bool HasRole(string role)
    {
        foreach (var r in Roles)
        {
            if (string.Equals(r, role, StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }

    public override string ToString() => $"{Subject} ({Issuer})";
}

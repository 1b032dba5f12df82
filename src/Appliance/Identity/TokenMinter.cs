using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Appliance.Identity;

/// <summary>
/// Mints signed JWTs the way an OIDC issuer would, for the demo command, tests and load scripts. Not used on
/// the verification path.
/// </summary>
public sealed class TokenMinter
{
    private static readonly HashSet<string> s_registeredClaims = new(StringComparer.Ordinal) { "iss", "aud", "sub", "exp", "nbf", "iat" };

    private readonly SigningCredentials _credentials;
    private readonly TimeProvider _time;
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <summary>Signs with <paramref name="key"/> (its <c>KeyId</c> becomes the <c>kid</c> header) using
    /// <paramref name="algorithm"/>, or the key's default (RS256/ES256) when null.</summary>
    public TokenMinter(AsymmetricSecurityKey key, string? algorithm = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(key);
        _credentials = new SigningCredentials(key, algorithm ?? SigningKeys.DefaultAlgorithm(key));
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// A token issued now and valid for <paramref name="lifetime"/> (from <paramref name="notBefore"/> when given).
    /// <paramref name="claims"/> values may be strings, string arrays/lists, booleans or integers.
    /// </summary>
    public string Mint(
        string issuer,
        string audience,
        string subject,
        TimeSpan lifetime,
        IReadOnlyDictionary<string, object>? claims = null,
        DateTimeOffset? notBefore = null)
    {
        var now = _time.GetUtcNow();
        var payload = new Dictionary<string, object>(StringComparer.Ordinal) { ["sub"] = subject };
        if (claims is not null)
        {
            foreach (var (name, value) in claims)
            {
                if (s_registeredClaims.Contains(name))
                {
                    throw new ArgumentException($"claim '{name}' is set by Mint's own parameters", nameof(claims));
                }
                payload[name] = value switch
                {
                    string or bool or int or long => value,
                    IEnumerable<string> values => values.ToArray(),
                    _ => throw new ArgumentException($"claim '{name}' has unsupported type {value?.GetType().Name ?? "null"}", nameof(claims)),
                };
            }
        }

        var start = notBefore ?? now;
        return _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer,
            Audience = audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = start.UtcDateTime,
            Expires = (start + lifetime).UtcDateTime,
            Claims = payload,
            SigningCredentials = _credentials,
        });
    }
}

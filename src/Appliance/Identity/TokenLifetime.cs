using Microsoft.IdentityModel.JsonWebTokens;

namespace Appliance.Identity;

/// <summary>
/// exp/nbf checks on the verifier's <see cref="TimeProvider"/>. The library's own check reads the system clock
/// (its TimeProvider hook is internal), which would make skew boundaries untestable; the rules are the same:
/// expired when exp &lt; now - skew, not yet valid when nbf &gt; now + skew.
/// </summary>
internal static class TokenLifetime
{
    /// <summary>The refusal for a token outside its lifetime at <paramref name="now"/>, or null when it is valid.</summary>
    public static IdentityResult? Check(JsonWebToken jwt, TimeSpan clockSkew, DateTimeOffset now)
    {
        // The library reports an absent claim as DateTime.MinValue.
        if (jwt.ValidTo == DateTime.MinValue)
        {
            return IdentityRefusals.MissingExpiry;
        }
        var expires = Utc(jwt.ValidTo);
        DateTimeOffset? notBefore = jwt.ValidFrom == DateTime.MinValue ? null : Utc(jwt.ValidFrom);
        if (notBefore > expires)
        {
            return IdentityRefusals.Invalid("its 'nbf' is after its 'exp'");
        }
        if (expires < now - clockSkew)
        {
            return IdentityRefusals.Expired(expires);
        }
        if (notBefore > now + clockSkew)
        {
            return IdentityRefusals.NotYetValid(notBefore.Value);
        }
        return null;
    }

    public static DateTimeOffset Utc(DateTime time) => new(DateTime.SpecifyKind(time, DateTimeKind.Utc));
}

namespace Appliance.Identity;

/// <summary>A cheap structural check before any parser sees the token: three base64url segments.</summary>
internal static class TokenShape
{
    /// <summary>The refusal for a token that is not shaped like a signed JWT, or null when it is.</summary>
    public static IdentityResult? Check(string token)
    {
        var dots = 0;
        foreach (var c in token)
        {
            if (c == '.')
            {
                dots++;
            }
            else if (!IsBase64Url(c))
            {
                return IdentityRefusals.Malformed;
            }
        }
        if (dots == 4)
        {
            return IdentityRefusals.Encrypted;
        }
        // An empty signature is let through here so that alg 'none' is refused with its own reason.
        if (dots != 2 || token[0] == '.' || token.AsSpan(token.IndexOf('.') + 1).StartsWith("."))
        {
            return IdentityRefusals.Malformed;
        }
        return null;
    }

    private static bool IsBase64Url(char c) =>
        c is (>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_';
}

namespace Appliance.Tests.Identity;

/// <summary>Checks that a message quotes no part of a token that could be replayed or reveals its content.</summary>
internal static class TokenLeak
{
    public static void AssertAbsent(string message, string token)
    {
        if (token.Trim().Length == 0)
        {
            return;
        }
        Assert.DoesNotContain(token, message, StringComparison.Ordinal);
        foreach (var segment in token.Split('.'))
        {
            // Short segments (like "aaaa" in garbage tests) can occur in prose by chance; real ones cannot.
            if (segment.Length >= 16)
            {
                Assert.DoesNotContain(segment, message, StringComparison.Ordinal);
            }
        }
    }
}

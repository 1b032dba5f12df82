using System.Globalization;
using System.Text;

namespace Appliance.Identity;

/// <summary>Makes values taken from an unverified token safe to put in a message: capped and escaped.</summary>
internal static class UntrustedText
{
    /// <summary>Characters of the original value kept before truncation.</summary>
    public const int MaxEchoLength = 100;

    /// <summary>
    /// Printable ASCII passes through; quotes, backslashes, control and all non-ASCII characters
    /// become <c>\uXXXX</c> so an attacker cannot forge log lines or hide text with bidi overrides.
    /// </summary>
    public static string Echo(string? value)
    {
        if (value is null)
        {
            return "";
        }
        var truncated = value.Length > MaxEchoLength;
        var span = truncated ? value.AsSpan(0, MaxEchoLength) : value.AsSpan();
        if (!truncated && !NeedsEscaping(span))
        {
            return value;
        }
        var sb = new StringBuilder(span.Length + 8);
        foreach (var c in span)
        {
            if (c is >= ' ' and <= '~' and not '\'' and not '"' and not '\\')
            {
                sb.Append(c);
            }
            else
            {
                sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
        }
        if (truncated)
        {
            sb.Append("...");
        }
        return sb.ToString();
    }

    private static bool NeedsEscaping(ReadOnlySpan<char> span)
    {
        foreach (var c in span)
        {
            if (c is < ' ' or > '~' or '\'' or '"' or '\\')
            {
                return true;
            }
        }
        return false;
    }
}

using System.Text;

namespace Appliance.Configuration;

/// <summary>Quoting of user-supplied values in error messages: escaped and capped.</summary>
internal static class ConfigText
{
    private const int MaxQuoted = 64;

    /// <summary><c>'value'</c> with control characters escaped, cut at <paramref name="max"/> characters.</summary>
    public static string Quote(string value, int max = MaxQuoted)
    {
        var builder = new StringBuilder(Math.Min(value.Length, max) + 4);
        builder.Append('\'');
        foreach (var c in value.Length > max ? value.AsSpan(0, max) : value)
        {
            if (char.IsControl(c))
            {
                builder.Append(c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ => $"\\u{(int)c:x4}" });
            }
            else
            {
                builder.Append(c);
            }
        }

        builder.Append('\'');
        if (value.Length > max)
        {
            builder.Append('…');
        }

        return builder.ToString();
    }
}

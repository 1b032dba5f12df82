using System.Globalization;

namespace Appliance.Configuration;

/// <summary>Sizes as written in the configuration: <c>65536</c>, <c>512KiB</c>, <c>64MiB</c>, <c>10GiB</c>, <c>1TB</c>.</summary>
/// <remarks>A whole number, optionally followed by a unit: B, KiB, MiB, GiB, TiB (powers of 1024) or KB, MB, GB, TB (powers of 1000).</remarks>
public static class ByteSizeText
{
    private static readonly (string Unit, long Factor)[] s_units =
    [
        ("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("TiB", 1L << 40),
        ("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000), ("B", 1),
    ];

    /// <summary>Parses a size; false for anything else, including values past <see cref="long.MaxValue"/>.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out long value)
    {
        value = 0;
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }
        if (digits == 0 || digits > 18 || !long.TryParse(text[..digits], NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return false;
        }
        var unit = text[digits..];
        if (unit.IsEmpty)
        {
            value = number;
            return true;
        }
        foreach (var (name, factor) in s_units)
        {
            if (unit.SequenceEqual(name))
            {
                if (number > long.MaxValue / factor)
                {
                    return false;
                }
                value = number * factor;
                return true;
            }
        }
        return false;
    }

    /// <summary>The shortest exact text in binary units (<c>64MiB</c>), or bytes.</summary>
    public static string Format(long value)
    {
        foreach (var (name, factor) in s_units.Take(4).Reverse())
        {
            if (value >= factor && value % factor == 0)
            {
                return (value / factor).ToString(CultureInfo.InvariantCulture) + name;
            }
        }
        return value.ToString(CultureInfo.InvariantCulture);
    }
}

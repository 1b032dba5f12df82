namespace Appliance.Identity;

/// <summary>
/// An exact string, or one where <c>*</c> matches any run of characters (possibly empty). Compiled once into
/// literal parts; matching is ordinal, allocation-free and linear, with no backtracking to exploit.
/// </summary>
public sealed class GlobPattern
{
    private readonly string _pattern;
    // Null for an exact pattern; otherwise the literal text between stars (first and last may be empty).
    private readonly string[]? _parts;
    private readonly int _minLength;

    private GlobPattern(string pattern)
    {
        _pattern = pattern;
        if (pattern.Contains('*', StringComparison.Ordinal))
        {
            _parts = pattern.Split('*');
            _minLength = pattern.Length - (_parts.Length - 1);
        }
        else
        {
            _minLength = pattern.Length;
        }
    }

    /// <summary>The pattern as written in configuration.</summary>
    public string Pattern => _pattern;

    /// <summary>Compiles <paramref name="pattern"/>; every string is a valid pattern.</summary>
    public static GlobPattern Compile(string pattern)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        return new GlobPattern(pattern);
    }

    /// <summary>True when <paramref name="value"/> matches the whole pattern.</summary>
    public bool IsMatch(ReadOnlySpan<char> value)
    {
        if (_parts is null)
        {
            return value.SequenceEqual(_pattern);
        }
        if (value.Length < _minLength)
        {
            return false;
        }

        var first = _parts[0];
        var last = _parts[^1];
        if (!value.StartsWith(first, StringComparison.Ordinal) || !value.EndsWith(last, StringComparison.Ordinal))
        {
            return false;
        }

        // Stars only, no '?', so taking each middle part at its leftmost place is never worse than any other
        // place: it leaves the most room for the parts after it. No backtracking needed.
        var rest = value[first.Length..(value.Length - last.Length)];
        for (var i = 1; i < _parts.Length - 1; i++)
        {
            var part = _parts[i];
            var at = rest.IndexOf(part, StringComparison.Ordinal);
            if (at < 0)
            {
                return false;
            }
            rest = rest[(at + part.Length)..];
        }
        return true;
    }

    public override string ToString() => _pattern;
}

namespace Appliance.Protocols.Postgres.Sql;

/// <summary>
/// One identifier as written in the statement text: a byte range plus how it was quoted. Its normalised
/// form is what PostgreSQL looks up: unquoted names fold ASCII letters to lower case, quoted names keep
/// case with <c>""</c> read as <c>"</c>, and both are cut to 63 bytes (NAMEDATALEN - 1) at a character boundary.
/// </summary>
public readonly struct SqlName
{
    /// <summary>Longest normalised name in bytes.</summary>
    public const int MaxLength = 63;

    private readonly int _start;
    private readonly int _length;
    private readonly byte _quoting; // 0 unquoted, 1 "...", 2 U&"..."

    internal SqlName(int start, int length, byte quoting)
    {
        _start = start;
        _length = length;
        _quoting = quoting;
    }

    internal static SqlName From(in SqlToken token) => new(token.Start, token.Length,
        token.Kind != SqlTokenKind.QuotedIdentifier ? (byte)0 : (token.Flags & SqlTokenFlags.UnicodeEscapes) != 0 ? (byte)2 : (byte)1);

    /// <summary>True for "no name" (an unqualified reference's schema).</summary>
    public bool IsEmpty => _length == 0;

    /// <summary>True when written in double quotes.</summary>
    public bool IsQuoted => _quoting != 0;

    /// <summary>The name as written, quotes included, within the statement text.</summary>
    public Range Range => _start..(_start + _length);

    /// <summary>
    /// Writes the normalised name (at most <see cref="MaxLength"/> bytes) and returns its length.
    /// <paramref name="destination"/> must hold <see cref="MaxLength"/> bytes.
    /// </summary>
    public int Normalize(ReadOnlySpan<byte> statement, Span<byte> destination)
    {
        if (destination.Length < MaxLength)
        {
            throw new ArgumentException($"The destination must hold {MaxLength} bytes.", nameof(destination));
        }
        if (_length == 0)
        {
            return 0;
        }
        var raw = statement.Slice(_start, _length);
        int count = 0;
        if (_quoting == 0)
        {
            foreach (byte b in raw)
            {
                if (count == MaxLength)
                {
                    return Clip(destination, count, b);
                }
                destination[count++] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
            }
            return count;
        }
        var body = raw[(_quoting == 2 ? 3 : 1)..^1];
        for (int i = 0; i < body.Length; i++)
        {
            byte b = body[i];
            if (b == '"')
            {
                i++; // "" stands for one quote
            }
            if (count == MaxLength)
            {
                return Clip(destination, count, b);
            }
            destination[count++] = b;
        }
        return count;
    }

    /// <summary>True when the normalised name equals <paramref name="value"/> byte for byte (pass lower case for unquoted names).</summary>
    public bool EqualsNormalized(ReadOnlySpan<byte> statement, ReadOnlySpan<byte> value)
    {
        if (value.Length > MaxLength)
        {
            return false;
        }
        Span<byte> buffer = stackalloc byte[MaxLength];
        int length = Normalize(statement, buffer);
        return buffer[..length].SequenceEqual(value);
    }

    // The byte after the cut continues a multi-byte character: drop that character's head too.
    private static int Clip(Span<byte> destination, int count, byte next)
    {
        if ((next & 0xC0) != 0x80)
        {
            return count;
        }
        while (count > 0)
        {
            byte b = destination[--count];
            if ((b & 0xC0) != 0x80)
            {
                break;
            }
        }
        return count;
    }
}

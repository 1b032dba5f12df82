namespace Appliance.Protocols.Postgres.Sql;

/// <summary>
/// Session settings that change how PostgreSQL tokenizes statement text. <c>default</c> is the server
/// default: <c>standard_conforming_strings = on</c>. Follow the upstream's ParameterStatus messages.
/// </summary>
public readonly struct SqlLexerOptions
{
    // Stored inverted so that default(SqlLexerOptions) is the server default.
    private readonly bool _backslashEscapesInStrings;

    /// <summary>Options for the given <c>standard_conforming_strings</c> value.</summary>
    public SqlLexerOptions(bool standardConformingStrings) => _backslashEscapesInStrings = !standardConformingStrings;

    /// <summary>The server default (<c>standard_conforming_strings = on</c>).</summary>
    public static SqlLexerOptions Default => default;

    /// <summary>When false, backslashes escape characters in plain <c>'...'</c> strings too, as in <c>E'...'</c>.</summary>
    public bool StandardConformingStrings => !_backslashEscapesInStrings;

    /// <summary>
    /// True when text in this <c>client_encoding</c> can be lexed byte-wise: no multi-byte character has
    /// a trailing byte in the ASCII range. False for SJIS, BIG5, GBK, UHC, GB18030, JOHAB and their
    /// aliases, whose trailing bytes can look like a backslash or a quote; the gateway must refuse those.
    /// The name is compared as PostgreSQL does: case-insensitively, ignoring non-alphanumeric characters.
    /// </summary>
    public static bool IsAsciiSafeClientEncoding(ReadOnlySpan<byte> encodingName)
    {
        Span<byte> clean = stackalloc byte[32];
        int length = 0;
        foreach (byte b in encodingName)
        {
            byte c = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
            if (c is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'0' and <= (byte)'9'))
            {
                if (length == clean.Length)
                {
                    return false;
                }
                clean[length++] = c;
            }
        }
        var name = clean[..length];
        if (name.IsEmpty)
        {
            return false;
        }
        foreach (var unsafeName in s_unsafeEncodings)
        {
            if (name.SequenceEqual(unsafeName))
            {
                return false;
            }
        }
        return true;
    }

    // pg_encname_tbl entries (cleaned) for the client-only encodings with ASCII trailing bytes.
    private static readonly byte[][] s_unsafeEncodings =
    [
        "sjis"u8.ToArray(), "shiftjis"u8.ToArray(), "mskanji"u8.ToArray(), "win932"u8.ToArray(), "windows932"u8.ToArray(),
        "shiftjis2004"u8.ToArray(), "big5"u8.ToArray(), "win950"u8.ToArray(), "windows950"u8.ToArray(),
        "gbk"u8.ToArray(), "win936"u8.ToArray(), "windows936"u8.ToArray(), "uhc"u8.ToArray(), "win949"u8.ToArray(),
        "windows949"u8.ToArray(), "gb18030"u8.ToArray(), "johab"u8.ToArray(),
    ];
}

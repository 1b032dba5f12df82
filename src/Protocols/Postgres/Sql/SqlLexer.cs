using System.Buffers;
using System.Runtime.CompilerServices;

namespace Appliance.Protocols.Postgres.Sql;

/// <summary>
/// Tokenizes PostgreSQL statement text the way the server's scanner (scan.l) does: whitespace,
/// <c>--</c> and nested <c>/* */</c> comments, identifiers (bytes 0x80-0xFF are identifier bytes),
/// quoted identifiers, every string form including continuation over newlines and dollar quoting,
/// numbers, parameters, operators and punctuation. Works on the bytes of an ASCII-safe encoding
/// (see <see cref="SqlLexerOptions.IsAsciiSafeClientEncoding"/>); never allocates.
/// </summary>
public ref struct SqlLexer
{
    internal const string UnterminatedComment = "unterminated /* comment";
    internal const string UnterminatedString = "unterminated quoted string";
    internal const string UnterminatedBitString = "unterminated bit string literal";
    internal const string UnterminatedHexString = "unterminated hexadecimal string literal";
    internal const string UnterminatedIdentifier = "unterminated quoted identifier";
    internal const string UnterminatedDollarString = "unterminated dollar-quoted string";
    internal const string EmptyIdentifier = "zero-length delimited identifier";
    internal const string NulByte = "NUL byte in statement text";
    internal const string UnsafeUnicodeString = "string constant with Unicode escapes while standard_conforming_strings is off";

    private readonly ReadOnlySpan<byte> _text;
    private readonly bool _backslashStrings;
    private int _position;

    /// <summary>A lexer over <paramref name="text"/> from its start.</summary>
    public SqlLexer(ReadOnlySpan<byte> text, in SqlLexerOptions options)
    {
        _text = text;
        _backslashStrings = !options.StandardConformingStrings;
    }

    /// <summary>Offset of the next unread byte.</summary>
    public readonly int Position => _position;

    /// <summary>
    /// Reads the next token, skipping whitespace and comments. At the end of the text returns
    /// <see cref="OperationStatus.Done"/> with a <see cref="SqlTokenKind.End"/> token. Unterminated
    /// quotes, comments and dollar strings, empty quoted identifiers and NUL bytes are
    /// <see cref="OperationStatus.InvalidData"/> with a reason; the position then stays put.
    /// </summary>
    public OperationStatus Read(out SqlToken token, out string? error)
    {
        var status = Scan(_text, _position, _backslashStrings, out token, out error);
        if (status == OperationStatus.Done)
        {
            _position = token.End;
        }
        return status;
    }

    /// <param name="keywords">False leaves <see cref="SqlToken.Keyword"/> unset, for readers that never look at it.</param>
    internal static OperationStatus Scan(ReadOnlySpan<byte> s, int pos, bool backslashStrings, out SqlToken token, out string? error, bool keywords = true)
    {
        error = null;
        int n = s.Length;
        while (pos < n)
        {
            byte c = s[pos];
            if (IsSpace(c))
            {
                pos++;
            }
            else if (c == '-' && pos + 1 < n && s[pos + 1] == '-')
            {
                int end = SkipLineComment(s, pos + 2);
                if (end < 0)
                {
                    return Fail(pos, NulByte, out token, out error);
                }
                pos = end;
            }
            else if (c == '/' && pos + 1 < n && s[pos + 1] == '*')
            {
                int end = SkipBlockComment(s, pos, out error);
                if (end < 0)
                {
                    return Fail(pos, error!, out token, out error);
                }
                pos = end;
            }
            else
            {
                break;
            }
        }
        if (pos >= n)
        {
            token = SqlToken.EndAt(n);
            return OperationStatus.Done;
        }

        byte b = s[pos];
        switch (b)
        {
            case (byte)'\'':
                return ScanString(s, pos, pos, backslashStrings ? StringMode.Backslash : StringMode.Standard,
                    backslashStrings ? SqlTokenFlags.BackslashEscapes : SqlTokenFlags.None, out token, out error);
            case (byte)'"':
                return ScanQuotedIdentifier(s, pos, pos, SqlTokenFlags.None, out token, out error);
            case (byte)'$':
                return ScanDollar(s, pos, out token, out error);
            case (byte)'(':
                return Single(SqlTokenKind.LeftParen, pos, out token);
            case (byte)')':
                return Single(SqlTokenKind.RightParen, pos, out token);
            case (byte)'[':
                return Single(SqlTokenKind.LeftBracket, pos, out token);
            case (byte)']':
                return Single(SqlTokenKind.RightBracket, pos, out token);
            case (byte)',':
                return Single(SqlTokenKind.Comma, pos, out token);
            case (byte)';':
                return Single(SqlTokenKind.Semicolon, pos, out token);
            case (byte)':':
                if (pos + 1 < n && s[pos + 1] == ':')
                {
                    token = new SqlToken(SqlTokenKind.DoubleColon, SqlTokenFlags.None, SqlKeyword.None, pos, 2);
                    return OperationStatus.Done;
                }
                if (pos + 1 < n && s[pos + 1] == '=')
                {
                    token = new SqlToken(SqlTokenKind.Operator, SqlTokenFlags.None, SqlKeyword.None, pos, 2);
                    return OperationStatus.Done;
                }
                return Single(SqlTokenKind.Colon, pos, out token);
            case (byte)'.':
                if (pos + 1 < n && IsDigit(s[pos + 1]))
                {
                    return ScanNumber(s, pos, out token);
                }
                if (pos + 1 < n && s[pos + 1] == '.')
                {
                    // ".." (PL/pgSQL ranges) is one token to the server.
                    token = new SqlToken(SqlTokenKind.Operator, SqlTokenFlags.None, SqlKeyword.None, pos, 2);
                    return OperationStatus.Done;
                }
                return Single(SqlTokenKind.Dot, pos, out token);
            case 0:
                return Fail(pos, NulByte, out token, out error);
        }

        if (pos + 1 < n && s[pos + 1] == '\'')
        {
            switch (b | 0x20)
            {
                case 'e':
                    return ScanString(s, pos, pos + 1, StringMode.Backslash, SqlTokenFlags.BackslashEscapes, out token, out error);
                case 'b':
                    return ScanString(s, pos, pos + 1, StringMode.Raw, SqlTokenFlags.Bit, out token, out error);
                case 'x':
                    return ScanString(s, pos, pos + 1, StringMode.Raw, SqlTokenFlags.Hex, out token, out error);
                case 'n':
                    return ScanString(s, pos, pos + 1, backslashStrings ? StringMode.Backslash : StringMode.Standard,
                        SqlTokenFlags.National | (backslashStrings ? SqlTokenFlags.BackslashEscapes : SqlTokenFlags.None), out token, out error);
            }
        }
        if ((b | 0x20) == 'u' && pos + 2 < n && s[pos + 1] == '&')
        {
            if (s[pos + 2] == '"')
            {
                return ScanQuotedIdentifier(s, pos, pos + 2, SqlTokenFlags.UnicodeEscapes, out token, out error);
            }
            if (s[pos + 2] == '\'')
            {
                if (backslashStrings)
                {
                    // The server refuses these too ("unsafe use of string constant with Unicode escapes").
                    return Fail(pos, UnsafeUnicodeString, out token, out error);
                }
                return ScanString(s, pos, pos + 2, StringMode.Standard, SqlTokenFlags.UnicodeEscapes, out token, out error);
            }
        }
        if (IsIdentifierStart(b))
        {
            int end = pos + 1;
            while (end < n && IsIdentifierPart(s[end]))
            {
                end++;
            }
            var keyword = keywords ? SqlKeywords.Lookup(s[pos..end]) : SqlKeyword.None;
            token = new SqlToken(SqlTokenKind.Identifier, SqlTokenFlags.None, keyword, pos, end - pos);
            return OperationStatus.Done;
        }
        if (IsDigit(b))
        {
            return ScanNumber(s, pos, out token);
        }
        if (IsOperatorChar(b))
        {
            int end = pos + 1;
            while (end < n && IsOperatorChar(s[end]))
            {
                // A comment start ends the operator, as in the server's scanner.
                if (end + 1 < n && ((s[end] == '-' && s[end + 1] == '-') || (s[end] == '/' && s[end + 1] == '*')))
                {
                    break;
                }
                end++;
            }
            token = new SqlToken(SqlTokenKind.Operator, SqlTokenFlags.None, SqlKeyword.None, pos, end - pos);
            return OperationStatus.Done;
        }
        return Single(SqlTokenKind.Other, pos, out token);
    }

    private enum StringMode : byte
    {
        Standard,  // '' doubles a quote
        Backslash, // '' doubles a quote, \ escapes the next byte
        Raw,       // B'' and X'': no escapes at all
    }

    // quote: offset of the opening quote; start: offset of the token (its prefix letter if any).
    private static OperationStatus ScanString(ReadOnlySpan<byte> s, int start, int quote, StringMode mode, SqlTokenFlags flags, out SqlToken token, out string? error)
    {
        int n = s.Length;
        int i = quote + 1;
        while (true)
        {
            var rest = s[i..];
            int k = mode == StringMode.Backslash ? rest.IndexOfAny((byte)'\'', (byte)'\\', (byte)0) : rest.IndexOfAny((byte)'\'', (byte)0);
            if (k < 0)
            {
                return Fail(start, Unterminated(flags), out token, out error);
            }
            i += k;
            byte c = s[i];
            if (c == 0)
            {
                return Fail(start, NulByte, out token, out error);
            }
            if (c == '\\')
            {
                if (i + 1 >= n)
                {
                    return Fail(start, Unterminated(flags), out token, out error);
                }
                if (s[i + 1] == 0)
                {
                    return Fail(start, NulByte, out token, out error);
                }
                i += 2;
                continue;
            }
            if (mode != StringMode.Raw && i + 1 < n && s[i + 1] == '\'')
            {
                i += 2;
                continue;
            }
            // A closing quote followed by whitespace holding a newline and another quote continues the
            // same literal, in the same mode (an E'' string's continuation still takes backslashes).
            int next = Continuation(s, i + 1);
            if (next >= 0)
            {
                i = next + 1;
                continue;
            }
            token = new SqlToken(SqlTokenKind.String, flags, SqlKeyword.None, start, i + 1 - start);
            error = null;
            return OperationStatus.Done;
        }
    }

    private static string Unterminated(SqlTokenFlags flags) =>
        (flags & SqlTokenFlags.Bit) != 0 ? UnterminatedBitString :
        (flags & SqlTokenFlags.Hex) != 0 ? UnterminatedHexString : UnterminatedString;

    // scan.l: {whitespace_with_newline}{quote}, where the whitespace may hold -- comments.
    private static int Continuation(ReadOnlySpan<byte> s, int i)
    {
        bool newline = false;
        int n = s.Length;
        while (i < n)
        {
            byte c = s[i];
            if (c is (byte)' ' or (byte)'\t' or (byte)'\f' or (byte)'\v')
            {
                i++;
            }
            else if (c is (byte)'\n' or (byte)'\r')
            {
                newline = true;
                i++;
            }
            else if (c == '-' && i + 1 < n && s[i + 1] == '-')
            {
                int end = SkipLineComment(s, i + 2);
                if (end < 0)
                {
                    return -1;
                }
                i = end;
            }
            else
            {
                return c == '\'' && newline ? i : -1;
            }
        }
        return -1;
    }

    private static OperationStatus ScanQuotedIdentifier(ReadOnlySpan<byte> s, int start, int quote, SqlTokenFlags flags, out SqlToken token, out string? error)
    {
        int n = s.Length;
        int i = quote + 1;
        while (true)
        {
            int k = s[i..].IndexOfAny((byte)'"', (byte)0);
            if (k < 0)
            {
                return Fail(start, UnterminatedIdentifier, out token, out error);
            }
            i += k;
            if (s[i] == 0)
            {
                return Fail(start, NulByte, out token, out error);
            }
            if (i + 1 < n && s[i + 1] == '"')
            {
                i += 2;
                continue;
            }
            if (i == quote + 1)
            {
                return Fail(start, EmptyIdentifier, out token, out error);
            }
            token = new SqlToken(SqlTokenKind.QuotedIdentifier, flags, SqlKeyword.None, start, i + 1 - start);
            error = null;
            return OperationStatus.Done;
        }
    }

    private static OperationStatus ScanDollar(ReadOnlySpan<byte> s, int pos, out SqlToken token, out string? error)
    {
        error = null;
        int n = s.Length;
        int p = pos + 1;
        if (p < n && IsDigit(s[p]))
        {
            while (p < n && IsDigit(s[p]))
            {
                p++;
            }
            token = new SqlToken(SqlTokenKind.Parameter, SqlTokenFlags.None, SqlKeyword.None, pos, p - pos);
            return OperationStatus.Done;
        }
        // A tag may not start with a digit (that is a parameter) and holds no '$'.
        if (p < n && IsIdentifierStart(s[p]))
        {
            p++;
            while (p < n && (IsIdentifierStart(s[p]) || IsDigit(s[p])))
            {
                p++;
            }
        }
        if (p >= n || s[p] != '$')
        {
            // "$abc" without a closing '$' is a lone '$' to the server, and then an identifier.
            return Single(SqlTokenKind.Other, pos, out token);
        }
        var delimiter = s[pos..(p + 1)];
        int bodyStart = p + 1;
        int k = s[bodyStart..].IndexOf(delimiter);
        if (k < 0)
        {
            return Fail(pos, UnterminatedDollarString, out token, out error);
        }
        if (s.Slice(bodyStart, k).Contains((byte)0))
        {
            return Fail(pos, NulByte, out token, out error);
        }
        int end = bodyStart + k + delimiter.Length;
        token = new SqlToken(SqlTokenKind.String, SqlTokenFlags.DollarQuoted, SqlKeyword.None, pos, end - pos);
        return OperationStatus.Done;
    }

    // PostgreSQL 16 number syntax (0x/0o/0b prefixes, '_' between digits); what follows a number starts a
    // new token, as before PostgreSQL 15 (15 and later call it trailing junk and refuse the statement).
    private static OperationStatus ScanNumber(ReadOnlySpan<byte> s, int pos, out SqlToken token)
    {
        int n = s.Length;
        int p = pos;
        if (s[p] == '0' && p + 2 < n)
        {
            int radix = (s[p + 1] | 0x20) switch { 'x' => 16, 'o' => 8, 'b' => 2, _ => 0 };
            if (radix != 0)
            {
                int q = p + 2;
                if (s[q] == '_' && q + 1 < n)
                {
                    q++;
                }
                if (IsRadixDigit(s[q], radix))
                {
                    p = q;
                    while (p < n && (IsRadixDigit(s[p], radix) || (s[p] == '_' && p + 1 < n && IsRadixDigit(s[p + 1], radix))))
                    {
                        p++;
                    }
                    token = new SqlToken(SqlTokenKind.Number, SqlTokenFlags.None, SqlKeyword.None, pos, p - pos);
                    return OperationStatus.Done;
                }
            }
        }
        p = SkipDigits(s, p);
        // "1..2" is an integer and then "..", not a decimal.
        if (p < n && s[p] == '.' && !(p + 1 < n && s[p + 1] == '.'))
        {
            p = SkipDigits(s, p + 1);
        }
        if (p < n && (s[p] | 0x20) == 'e')
        {
            int q = p + 1;
            if (q < n && (s[q] == '+' || s[q] == '-'))
            {
                q++;
            }
            if (q < n && IsDigit(s[q]))
            {
                p = SkipDigits(s, q);
            }
        }
        token = new SqlToken(SqlTokenKind.Number, SqlTokenFlags.None, SqlKeyword.None, pos, p - pos);
        return OperationStatus.Done;
    }

    private static int SkipDigits(ReadOnlySpan<byte> s, int p)
    {
        int n = s.Length;
        while (p < n && (IsDigit(s[p]) || (s[p] == '_' && p > 0 && IsDigit(s[p - 1]) && p + 1 < n && IsDigit(s[p + 1]))))
        {
            p++;
        }
        return p;
    }

    // Returns the offset of the line end (not consumed), or -1 on a NUL byte.
    private static int SkipLineComment(ReadOnlySpan<byte> s, int p)
    {
        int k = s[p..].IndexOfAny((byte)'\n', (byte)'\r', (byte)0);
        if (k < 0)
        {
            return s.Length;
        }
        return s[p + k] == 0 ? -1 : p + k;
    }

    // Nested like the server's: "/* /* */ */" is one comment.
    private static int SkipBlockComment(ReadOnlySpan<byte> s, int p, out string? error)
    {
        int n = s.Length;
        int depth = 1;
        p += 2;
        while (true)
        {
            int k = s[p..].IndexOfAny((byte)'*', (byte)'/', (byte)0);
            if (k < 0)
            {
                error = UnterminatedComment;
                return -1;
            }
            p += k;
            byte c = s[p];
            if (c == 0)
            {
                error = NulByte;
                return -1;
            }
            if (p + 1 < n)
            {
                if (c == '*' && s[p + 1] == '/')
                {
                    p += 2;
                    if (--depth == 0)
                    {
                        error = null;
                        return p;
                    }
                    continue;
                }
                if (c == '/' && s[p + 1] == '*')
                {
                    depth++;
                    p += 2;
                    continue;
                }
            }
            p++;
        }
    }

    private static OperationStatus Single(SqlTokenKind kind, int pos, out SqlToken token)
    {
        token = new SqlToken(kind, SqlTokenFlags.None, SqlKeyword.None, pos, 1);
        return OperationStatus.Done;
    }

    private static OperationStatus Fail(int pos, string reason, out SqlToken token, out string? error)
    {
        token = SqlToken.EndAt(pos);
        error = reason;
        return OperationStatus.InvalidData;
    }

    // Character classes of every byte (scan.l's space, ident_start, ident_cont, digit, op_chars).
    // PostgreSQL 16 counts \v as whitespace; 15 refuses it as a syntax error, so either reading is safe.
    private const byte SpaceClass = 1;
    private const byte IdentifierStartClass = 2;
    private const byte IdentifierPartClass = 4;
    private const byte DigitClass = 8;
    private const byte OperatorClass = 16;

    private static ReadOnlySpan<byte> Classes =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        1, 16, 0, 16, 4, 16, 16, 0, 0, 0, 16, 16, 0, 16, 0, 16, 12, 12, 12, 12, 12, 12, 12, 12, 12, 12, 0, 0, 16, 16, 16, 16,
        16, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 0, 0, 16, 6,
        16, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 16, 0, 16, 0,
        6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
        6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
        6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
        6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    ];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsSpace(byte c) => (Classes[c] & SpaceClass) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsDigit(byte c) => (Classes[c] & DigitClass) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsIdentifierStart(byte c) => (Classes[c] & IdentifierStartClass) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsIdentifierPart(byte c) => (Classes[c] & IdentifierPartClass) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsOperatorChar(byte c) => (Classes[c] & OperatorClass) != 0;

    private static bool IsRadixDigit(byte c, int radix) => radix switch
    {
        16 => IsDigit(c) || (uint)((c | 0x20) - 'a') <= 5,
        8 => (uint)(c - '0') <= 7,
        _ => c is (byte)'0' or (byte)'1',
    };
}

using System.Buffers;
using System.Text;
using Appliance.Protocols.Postgres.Sql;

namespace Appliance.Protocols.Tests.Sql;

public sealed class SqlLexerTests
{
    internal static List<SqlToken> Lex(byte[] text, SqlLexerOptions options, out string? error)
    {
        var lexer = new SqlLexer(text, options);
        var tokens = new List<SqlToken>();
        error = null;
        while (true)
        {
            if (lexer.Read(out var token, out error) != OperationStatus.Done)
            {
                return tokens;
            }
            if (token.Kind == SqlTokenKind.End)
            {
                return tokens;
            }
            tokens.Add(token);
        }
    }

    private static string Render(string sql, SqlLexerOptions options = default)
    {
        var text = Encoding.UTF8.GetBytes(sql);
        var tokens = Lex(text, options, out var error);
        Assert.Null(error);
        return string.Join(" ", tokens.Select(t => $"{t.Kind}[{Encoding.UTF8.GetString(t.Slice(text))}]"));
    }

    [Theory]
    [InlineData("SELECT a FROM b", "Identifier[SELECT] Identifier[a] Identifier[FROM] Identifier[b]")]
    [InlineData("a$b $1 $12x", "Identifier[a$b] Parameter[$1] Parameter[$12] Identifier[x]")]
    [InlineData("\"Weird \"\"Name\"\"\".x", "QuotedIdentifier[\"Weird \"\"Name\"\"\"] Dot[.] Identifier[x]")]
    [InlineData("U&\"d\\0061t\" u&'x' U &'y'", "QuotedIdentifier[U&\"d\\0061t\"] String[u&'x'] Identifier[U] Operator[&] String['y']")]
    [InlineData("'it''s' E'a\\'b' e'\\\\' N'n' B'0101' x'1F'", "String['it''s'] String[E'a\\'b'] String[e'\\\\'] String[N'n'] String[B'0101'] String[x'1F']")]
    [InlineData("ee'x' be'y'", "Identifier[ee] String['x'] Identifier[be] String['y']")]
    [InlineData("$$a;b$$ $tag$ $$ ; $tag$ $Tag$x$tag$Tag$", "String[$$a;b$$] String[$tag$ $$ ; $tag$] String[$Tag$x$tag$Tag$]")]
    [InlineData("$a $ $1$", "Other[$] Identifier[a] Other[$] Parameter[$1] Other[$]")]
    [InlineData("1 1.5 .5 5. 1e10 1.5E-3 1..2 0x1F 0o17 0b101 1_000", "Number[1] Number[1.5] Number[.5] Number[5.] Number[1e10] Number[1.5E-3] Number[1] Operator[..] Number[2] Number[0x1F] Number[0o17] Number[0b101] Number[1_000]")]
    [InlineData("1from 0x", "Number[1] Identifier[from] Number[0] Identifier[x]")]
    [InlineData("a::int := => <> != >= ||/ @>", "Identifier[a] DoubleColon[::] Identifier[int] Operator[:=] Operator[=>] Operator[<>] Operator[!=] Operator[>=] Operator[||/] Operator[@>]")]
    [InlineData("2*/*c*/3 1+--c\n2", "Number[2] Operator[*] Number[3] Number[1] Operator[+] Number[2]")]
    [InlineData("( ) [ ] , ; : .", "LeftParen[(] RightParen[)] LeftBracket[[] RightBracket[]] Comma[,] Semicolon[;] Colon[:] Dot[.]")]
    [InlineData("/* a /* b */ c */ x -- y\rz", "Identifier[x] Identifier[z]")]
    [InlineData("\u00e9t\u00e9 caf\u00e9_2", "Identifier[\u00e9t\u00e9] Identifier[caf\u00e9_2]")]
    [InlineData("'a'\n'b' 'c' 'd'", "String['a'\n'b'] String['c'] String['d']")]
    [InlineData("'a' -- note\n  'b'", "String['a' -- note\n  'b']")]
    [InlineData("'a' /* no */\n'b'", "String['a'] String['b']")]
    [InlineData("B'01'\n'10'", "String[B'01'\n'10']")]
    [InlineData("\\ { }", "Other[\\] Other[{] Other[}]")]
    [InlineData("a\tb\fc\vd", "Identifier[a] Identifier[b] Identifier[c] Identifier[d]")]
    public void Read_Text_ProducesTokens(string sql, string expected) => Assert.Equal(expected, Render(sql));

    [Fact]
    public void Read_StandardConformingStringsOff_BackslashEscapesPlainAndNationalStrings()
    {
        var options = new SqlLexerOptions(standardConformingStrings: false);
        Assert.Equal("String['a\\'z'] String[N'\\'']", Render("'a\\'z' N'\\''", options));
        // On (the default) the same text ends the first string at the backslash's quote.
        Assert.Equal("String['a\\'] Identifier[z] String[' N'] Other[\\] String['']", Render("'a\\'z' N'\\''"));
    }

    [Fact]
    public void Read_Keywords_CaseInsensitiveUnquotedOnly()
    {
        var text = "SELECT select SeLeCt \"select\" selects"u8.ToArray();
        var tokens = Lex(text, default, out _);
        Assert.Equal(
            [SqlKeyword.Select, SqlKeyword.Select, SqlKeyword.Select, SqlKeyword.None, SqlKeyword.None],
            tokens.Select(t => t.Keyword));
    }

    [Fact]
    public void Lookup_EveryKeyword_FoundInAnyCase()
    {
        foreach (var keyword in Enum.GetValues<SqlKeyword>().Where(k => k != SqlKeyword.None))
        {
            var lower = SqlKeywords.Text(keyword).ToArray();
            Assert.Equal(keyword, SqlKeywords.Lookup(lower));
            Assert.Equal(keyword, SqlKeywords.Lookup(Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(lower).ToUpperInvariant())));
        }
        Assert.Equal(SqlKeyword.None, SqlKeywords.Lookup("selec"u8));
        Assert.Equal(SqlKeyword.None, SqlKeywords.Lookup("selectt"u8));
        Assert.Equal(SqlKeyword.None, SqlKeywords.Lookup([]));
    }

    [Fact]
    public void Categories_MatchPostgres()
    {
        Assert.True(SqlKeywords.IsReserved(SqlKeyword.Select));
        Assert.True(SqlKeywords.IsReserved(SqlKeyword.Case));
        Assert.True(SqlKeywords.IsTypeFunctionName(SqlKeyword.Left));
        Assert.True(SqlKeywords.IsTypeFunctionName(SqlKeyword.Join));
        Assert.True(SqlKeywords.IsColumnId(SqlKeyword.Values));
        Assert.True(SqlKeywords.IsColumnId(SqlKeyword.Set));
        Assert.True(SqlKeywords.IsColumnId(SqlKeyword.None));
    }

    [Theory]
    [InlineData("'abc", SqlLexer.UnterminatedString)]
    [InlineData("E'abc\\'", SqlLexer.UnterminatedString)]
    [InlineData("'a'\n'b", SqlLexer.UnterminatedString)]
    [InlineData("X'1F", SqlLexer.UnterminatedHexString)]
    [InlineData("\"abc", SqlLexer.UnterminatedIdentifier)]
    [InlineData("U&\"", SqlLexer.UnterminatedIdentifier)]
    [InlineData("\"\"", SqlLexer.EmptyIdentifier)]
    [InlineData("U&\"\"", SqlLexer.EmptyIdentifier)]
    [InlineData("/* /* */", SqlLexer.UnterminatedComment)]
    [InlineData("$$ $", SqlLexer.UnterminatedDollarString)]
    [InlineData("$a$ $b$", SqlLexer.UnterminatedDollarString)]
    [InlineData("a \0 b", SqlLexer.NulByte)]
    [InlineData("-- \0\n", SqlLexer.NulByte)]
    [InlineData("/* \0 */", SqlLexer.NulByte)]
    [InlineData("$$\0$$", SqlLexer.NulByte)]
    [InlineData("\"\0\"", SqlLexer.NulByte)]
    public void Read_Malformed_InvalidDataWithoutMoving(string sql, string reason)
    {
        var text = Encoding.UTF8.GetBytes(sql);
        var lexer = new SqlLexer(text, default);
        OperationStatus status;
        string? error;
        int before;
        do
        {
            before = lexer.Position;
            status = lexer.Read(out var token, out error);
            if (status == OperationStatus.Done && token.Kind == SqlTokenKind.End)
            {
                break;
            }
        }
        while (status == OperationStatus.Done);
        Assert.Equal(OperationStatus.InvalidData, status);
        Assert.Equal(reason, error);
        Assert.Equal(before, lexer.Position);
    }

    internal static readonly string[] s_prefixTexts =
    [
        "SELECT 'a;b' AS x; /* c ; /* nested */ */ INSERT INTO t VALUES ($$;$$, E'\\';') ;; SELECT \"q;\"\"x\" FROM t WHERE a IN (1, 2); -- tail ;\n",
        "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT (2); END; DELETE FROM t; SELECT $tag$ ; $tag$",
        "select U&\"x\" , B'01', X'ff', N'n', 1.5e3 from s.t where b <> 'x''y' /* end */",
    ];

    // Where a cut leaves a construct open, from the whole text's tokens: after a quote's or dollar
    // tag's opening delimiter and before its end (unless the cut falls just after a quote that the
    // shorter text reads as the closing one), or inside a /* comment.
    internal static bool CutInsideConstruct(byte[] text, List<SqlToken> tokens, int cut)
    {
        foreach (var t in tokens)
        {
            if (t.Kind is SqlTokenKind.String or SqlTokenKind.QuotedIdentifier)
            {
                var body = t.Slice(text);
                if ((t.Flags & SqlTokenFlags.DollarQuoted) != 0)
                {
                    if (cut >= t.Start + body[1..].IndexOf((byte)'$') + 2 && cut < t.End)
                    {
                        return true;
                    }
                    continue;
                }
                int open = t.Start + body.IndexOfAny((byte)'\'', (byte)'"');
                if (cut <= open || cut >= t.End)
                {
                    continue;
                }
                byte quote = text[open];
                bool backslash = (t.Flags & SqlTokenFlags.BackslashEscapes) != 0;
                bool doubling = (t.Flags & (SqlTokenFlags.Bit | SqlTokenFlags.Hex)) == 0;
                bool closed = false;
                for (int i = open + 1; i < cut; i++)
                {
                    if (backslash && text[i] == '\\')
                    {
                        i++;
                    }
                    else if (text[i] == quote)
                    {
                        if (doubling && i + 1 < cut && text[i + 1] == quote)
                        {
                            i++;
                        }
                        else
                        {
                            closed = i + 1 == cut;
                            break;
                        }
                    }
                }
                if (!closed)
                {
                    return true;
                }
            }
        }
        int previousEnd = 0;
        foreach (var t in tokens.Append(SqlToken.EndAt(text.Length)))
        {
            // Comments live in the gaps between tokens.
            var gap = Encoding.UTF8.GetString(text, previousEnd, t.Start - previousEnd);
            int comment = gap.IndexOf("/*", StringComparison.Ordinal);
            if (comment >= 0 && cut >= previousEnd + comment + 2 && cut < previousEnd + gap.LastIndexOf("*/", StringComparison.Ordinal) + 2)
            {
                return true;
            }
            previousEnd = t.End;
        }
        return false;
    }

    [Fact]
    public void Read_EveryPrefix_InvalidOnlyInsideConstructsAndTokensAgree()
    {
        foreach (var sql in s_prefixTexts)
        {
            var text = Encoding.UTF8.GetBytes(sql);
            var full = Lex(text, default, out var fullError);
            Assert.Null(fullError);
            for (int cut = 0; cut <= text.Length; cut++)
            {
                var prefix = text[..cut];
                var tokens = Lex(prefix, default, out var error);
                bool inside = CutInsideConstruct(text, full, cut);
                Assert.True(inside == (error is not null), $"cut {cut} of {sql}: error {error}");
                // Tokens well before the cut are the whole text's tokens (the scanner looks two bytes ahead at most).
                var settled = full.Where(t => t.End + 2 <= cut).ToList();
                Assert.True(tokens.Count >= settled.Count, $"cut {cut}");
                for (int i = 0; i < settled.Count; i++)
                {
                    Assert.Equal((settled[i].Kind, settled[i].Start, settled[i].Length), (tokens[i].Kind, tokens[i].Start, tokens[i].Length));
                }
            }
        }
    }

    [Theory]
    [InlineData("UTF8", true)]
    [InlineData("utf-8", true)]
    [InlineData("LATIN1", true)]
    [InlineData("EUC_JP", true)]
    [InlineData("SQL_ASCII", true)]
    [InlineData("SJIS", false)]
    [InlineData("Shift_JIS_2004", false)]
    [InlineData("big5", false)]
    [InlineData("GBK", false)]
    [InlineData("Windows936", false)]
    [InlineData("UHC", false)]
    [InlineData("GB18030", false)]
    [InlineData("JOHAB", false)]
    [InlineData("", false)]
    public void IsAsciiSafeClientEncoding_Name_Expected(string name, bool safe) =>
        Assert.Equal(safe, SqlLexerOptions.IsAsciiSafeClientEncoding(Encoding.ASCII.GetBytes(name)));
}

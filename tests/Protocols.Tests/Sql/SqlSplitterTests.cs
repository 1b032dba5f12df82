using System.Buffers;
using System.Text;
using Appliance.Protocols.Postgres.Sql;

namespace Appliance.Protocols.Tests.Sql;

public sealed class SqlSplitterTests
{
    private static (List<string> Statements, string? Error) Split(string sql, SqlLexerOptions options = default) =>
        Split(Encoding.UTF8.GetBytes(sql), options, out _);

    private static (List<string> Statements, string? Error) Split(byte[] text, SqlLexerOptions options, out List<Range> ranges)
    {
        var statements = new List<string>();
        ranges = [];
        int offset = 0;
        while (true)
        {
            var status = SqlSplitter.TryNextStatement(text, ref offset, options, out var range, out var error);
            if (status == OperationStatus.NeedMoreData)
            {
                Assert.Equal(text.Length, offset);
                return (statements, null);
            }
            if (status == OperationStatus.InvalidData)
            {
                Assert.NotNull(error);
                return (statements, error);
            }
            Assert.Equal(OperationStatus.Done, status);
            ranges.Add(range);
            statements.Add(Encoding.UTF8.GetString(text[range]));
        }
    }

    [Theory]
    [InlineData("SELECT 1", new[] { "SELECT 1" })]
    [InlineData("SELECT 1; SELECT 2;", new[] { "SELECT 1", "SELECT 2" })]
    [InlineData(";;  ; SELECT 1 ;; ; ", new[] { "SELECT 1" })]
    [InlineData("", new string[0])]
    [InlineData("  -- only a comment", new string[0])]
    [InlineData("/* a */ SELECT /* ; */ 1 /* b */; -- ;\nDELETE FROM t -- x", new[] { "SELECT /* ; */ 1", "DELETE FROM t" })]
    [InlineData("SELECT 'a;b', \"c;d\", $$e;f$$, $x$;$x$, E'\\';', B'01'; SELECT 2", new[] { "SELECT 'a;b', \"c;d\", $$e;f$$, $x$;$x$, E'\\';', B'01'", "SELECT 2" })]
    [InlineData("SELECT (1; 2); SELECT [3; 4]", new[] { "SELECT (1; 2)", "SELECT [3; 4]" })]
    [InlineData("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); DELETE FROM b); SELECT 1", new[] { "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); DELETE FROM b)", "SELECT 1" })]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END; SELECT 3", new[] { "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END", "SELECT 3" })]
    [InlineData("create or replace procedure p() language sql begin atomic insert into t values (1); end ; call p()", new[] { "create or replace procedure p() language sql begin atomic insert into t values (1); end", "call p()" })]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC END; SELECT 1", new[] { "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC END", "SELECT 1" })]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 1 end; SELECT 1 AS end; END; SELECT 2", new[] { "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 1 end; SELECT 1 AS end; END", "SELECT 2" })]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN 1; SELECT 2", new[] { "CREATE FUNCTION f() RETURNS int LANGUAGE sql RETURN 1", "SELECT 2" })]
    [InlineData("CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql; SELECT 2", new[] { "CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql", "SELECT 2" })]
    [InlineData("BEGIN; SELECT 1; END; BEGIN ATOMIC; END", new[] { "BEGIN", "SELECT 1", "END", "BEGIN ATOMIC", "END" })]
    [InlineData("SELECT 1 \"begin\" ; CREATE TABLE atomic (a int); SELECT 2", new[] { "SELECT 1 \"begin\"", "CREATE TABLE atomic (a int)", "SELECT 2" })]
    public void TryNextStatement_Text_SplitsAtTopLevelSemicolons(string sql, string[] expected)
    {
        var (statements, error) = Split(sql);
        Assert.Null(error);
        Assert.Equal(expected, statements);
    }

    [Theory]
    [InlineData("SELECT 1; SELECT 'x", 1, SqlLexer.UnterminatedString)]
    [InlineData("SELECT 1; SELECT (1; SELECT 2", 1, SqlTokenReader.UnclosedParenthesis)]
    [InlineData("SELECT 1); SELECT 2", 0, SqlTokenReader.UnbalancedClose)]
    [InlineData("SELECT 1; /* never closed", 1, SqlLexer.UnterminatedComment)]
    [InlineData("CREATE FUNCTION f() LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2", 0, SqlTokenReader.UnclosedAtomic)]
    [InlineData("CREATE FUNCTION f() LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; SELECT 1 end", 0, SqlTokenReader.UnclosedAtomic)]
    public void TryNextStatement_Malformed_InvalidDataAfterTheGoodOnes(string sql, int good, string reason)
    {
        var (statements, error) = Split(sql);
        Assert.Equal(good, statements.Count);
        Assert.Equal(reason, error);
    }

    [Fact]
    public void TryNextStatement_StandardConformingStringsOff_BackslashQuoteStaysInside()
    {
        var sql = "SELECT 'a\\'; DELETE FROM t; --'; SELECT 2";
        Assert.Equal(["SELECT 'a\\'; DELETE FROM t; --'", "SELECT 2"], Split(sql, new SqlLexerOptions(false)).Statements);
        // With standard strings the same text holds a DELETE: the splitter sees it.
        Assert.Equal(["SELECT 'a\\'", "DELETE FROM t"], Split(sql).Statements);
    }

    [Fact]
    public void TryNextStatement_EveryPrefix_NeverGuessesASplit()
    {
        foreach (var sql in SqlLexerTests.s_prefixTexts)
        {
            var text = Encoding.UTF8.GetBytes(sql);
            var (fullStatements, fullError) = Split(text, default, out var fullRanges);
            Assert.Null(fullError);
            var tokens = SqlLexerTests.Lex(text, default, out _);
            for (int cut = 0; cut <= text.Length; cut++)
            {
                var (statements, error) = Split(text[..cut], default, out var ranges);
                bool open = SqlLexerTests.CutInsideConstruct(text, tokens, cut) || OpenAt(text, tokens, cut);
                Assert.True(open == (error is not null), $"cut {cut} of {sql}: {error}");
                // Statements found are the whole text's statements, the last one possibly cut short. A cut
                // through a comment opener leaves a lone '/' or '-' that is a statement of its own.
                if (ranges.Count > 0 && ranges[^1].Start.Value >= cut - 1
                    && (ranges.Count > fullRanges.Count || !fullRanges[ranges.Count - 1].Start.Equals(ranges[^1].Start)))
                {
                    Assert.True(text[cut - 1] is (byte)'/' or (byte)'-', $"cut {cut} of {sql}");
                    ranges.RemoveAt(ranges.Count - 1);
                }
                for (int i = 0; i < ranges.Count; i++)
                {
                    Assert.True(fullRanges[i].Start.Equals(ranges[i].Start), $"cut {cut}, statement {i} of {sql}");
                    if (i < ranges.Count - 1)
                    {
                        Assert.True(fullRanges[i].End.Equals(ranges[i].End), $"cut {cut}, statement {i} of {sql}");
                    }
                    else
                    {
                        Assert.True(ranges[i].End.Value <= fullRanges[i].End.Value
                            || (ranges[i].End.Value == cut && text[cut - 1] is (byte)'/' or (byte)'-'), $"cut {cut} of {sql}");
                    }
                }
                if (!open)
                {
                    Assert.True(fullRanges.Count(r => r.Start.Value < cut) == ranges.Count, $"cut {cut} of {sql}");
                }
            }
        }
    }

    // Parentheses left open at the cut, or a BEGIN ATOMIC body whose END is not wholly before it.
    private static bool OpenAt(byte[] text, List<SqlToken> tokens, int cut)
    {
        int depth = 0;
        foreach (var t in tokens.Where(t => t.End <= cut))
        {
            depth += t.Kind == SqlTokenKind.LeftParen ? 1 : t.Kind == SqlTokenKind.RightParen ? -1 : 0;
        }
        var sql = Encoding.UTF8.GetString(text);
        int atomic = sql.IndexOf("ATOMIC", StringComparison.Ordinal);
        if (atomic >= 0)
        {
            int end = sql.IndexOf("END", atomic, StringComparison.Ordinal);
            if (cut >= atomic + "ATOMIC".Length && cut < end + "END".Length)
            {
                return true;
            }
        }
        return depth > 0;
    }

    [Fact]
    public void TryNextStatement_OffsetPastEnd_Throws()
    {
        int offset = 5;
        Assert.Throws<ArgumentOutOfRangeException>(() => SqlSplitter.TryNextStatement("abc"u8, ref offset, default, out _, out _));
    }
}

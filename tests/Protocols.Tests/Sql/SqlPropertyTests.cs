using System.Buffers;
using System.Text;
using Appliance.Protocols.Postgres.Sql;
using CsCheck;

namespace Appliance.Protocols.Tests.Sql;

public sealed class SqlPropertyTests
{
    // Well-formed tokens of every kind. None ends in a backslash, so a string continued from an E''
    // string on the next line stays terminated.
    private static readonly string[] s_tokens =
    [
        "SELECT", "FROM", "WHERE", "INSERT", "INTO", "UPDATE", "SET", "DELETE", "MERGE", "USING", "WITH", "AS",
        "JOIN", "LEFT", "ON", "CASE", "WHEN", "THEN", "END", "UNION", "VALUES", "TABLE", "ONLY", "LATERAL", "FOR",
        "BEGIN", "ATOMIC", "CREATE", "FUNCTION", "EXPLAIN", "ANALYZE", "COPY", "TO", "STDOUT", "DISTINCT", "IS", "NOT",
        "t", "public", "lo_import", "x1", "a$b", "caf\u00e9", "\"Quoted \"\"Id\"\"\"", "U&\"u\"", "UESCAPE",
        "'plain'", "'it''s'", "E'esc\\'q'", "N'n'", "B'01'", "X'FF'", "U&'u'", "$$dollar ; $$", "$t$tag $$ ; $t$",
        "1", "1.5", ".5", "1e10", "0x1F", "$1", "+", "-", "*", "/", "<>", "::", "(", ")", "[", "]", ",", ";", ".", ":",
        "=", "||", "@>",
    ];

    private static readonly string[] s_separators = [" ", "\n", "\t", " /* c */ ", " /* a /* b ; */ c */ ", " -- line ;\n", "\r\n"];

    private static readonly Gen<string> s_tokenSequence =
        Gen.Select(Gen.OneOfConst(s_tokens), Gen.OneOfConst(s_separators)).Array[0, 40]
            .Select(parts => string.Concat(parts.Select(p => p.Item1 + p.Item2)));

    [Fact]
    public void Lex_RandomTokenSequences_AlwaysLexWithoutError()
    {
        s_tokenSequence.Sample(sql =>
        {
            var text = Encoding.UTF8.GetBytes(sql);
            var lexer = new SqlLexer(text, default);
            int count = 0;
            while (true)
            {
                if (lexer.Read(out var token, out var error) != OperationStatus.Done)
                {
                    throw new InvalidOperationException($"{error} in {sql}");
                }
                if (token.Kind == SqlTokenKind.End)
                {
                    break;
                }
                if (++count > text.Length)
                {
                    throw new InvalidOperationException("no progress");
                }
            }
        }, iter: 20_000);
    }

    [Fact]
    public void ClassifyAndSplit_RandomTokenSequences_NeverThrow()
    {
        // CsCheck samples on several threads: one info per sample.
        s_tokenSequence.Sample(sql =>
        {
            var info = new SqlStatementInfo();
            var text = Encoding.UTF8.GetBytes(sql);
            var status = SqlClassifier.Classify(text, default, info);
            Assert.True(status == OperationStatus.Done ? info.Error is null : info.Error is not null, sql);
            int offset = 0;
            for (int i = 0; i <= text.Length; i++)
            {
                var split = SqlSplitter.TryNextStatement(text, ref offset, default, out var range, out _);
                if (split != OperationStatus.Done)
                {
                    return;
                }
                SqlClassifier.Classify(text[range], default, info);
            }
            throw new InvalidOperationException("splitter made no progress: " + sql);
        }, iter: 20_000);
    }

    private static readonly Gen<string> s_comment = Gen.OneOfConst(" /* c */ ", " /* SELECT * FROM secret; */ ", " /* a /* b */ c */ ", " -- DELETE FROM t;\n", "\n\t", " /**/ ");

    [Fact]
    public void Classify_CommentsBetweenTokens_SameClassification()
    {
        var gen = Gen.Select(Gen.Int[0, SqlCorpus.Statements.Length - 1], Gen.Select(Gen.Bool, s_comment).Array[0, 200]);
        gen.Sample((index, inserts) =>
        {
            var sql = SqlCorpus.Statements[index];
            var text = Encoding.UTF8.GetBytes(sql);
            var tokens = SqlLexerTests.Lex(text, default, out var error);
            Assert.Null(error);
            var rebuilt = new StringBuilder();
            for (int i = 0; i < tokens.Count; i++)
            {
                rebuilt.Append(Encoding.UTF8.GetString(tokens[i].Slice(text)));
                rebuilt.Append(i < inserts.Length && inserts[i].Item1 ? inserts[i].Item2 : " ");
            }
            var expected = SqlDescription.Describe(text);
            var actual = SqlDescription.Describe(rebuilt.ToString());
            Assert.True(expected == actual, $"{sql}\n{rebuilt}\n  expected: {expected}\n  actual:   {actual}");
        }, iter: 5_000);
    }

    [Fact]
    public void Split_JoinedStatements_EachFoundAndClassifiedAlike()
    {
        var gen = Gen.Select(Gen.Int[0, SqlCorpus.Statements.Length - 1], s_comment, Gen.OneOfConst(";", " ;", ";;", "; ;\n")).Array[1, 8];
        gen.Sample(parts =>
        {
            var sql = string.Concat(parts.Select(p => SqlCorpus.Statements[p.Item1] + p.Item2 + p.Item3 + p.Item2));
            var text = Encoding.UTF8.GetBytes(sql);
            int offset = 0;
            foreach (var (index, _, _) in parts)
            {
                Assert.Equal(OperationStatus.Done, SqlSplitter.TryNextStatement(text, ref offset, default, out var range, out _));
                Assert.Equal(SqlDescription.Describe(SqlCorpus.Statements[index]), SqlDescription.Describe(text[range]));
            }
            Assert.Equal(OperationStatus.NeedMoreData, SqlSplitter.TryNextStatement(text, ref offset, default, out _, out _));
        }, iter: 2_000);
    }

    [Fact]
    public void Classify_RandomBytes_NeverThrows()
    {
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            var info = new SqlStatementInfo();
            SqlClassifier.Classify(bytes, default, info);
            SqlClassifier.Classify(bytes, new SqlLexerOptions(false), info);
        }, iter: 20_000);
    }
}

using System.Buffers;
using System.Text;
using Appliance.Protocols.Postgres.Sql;
using CsCheck;

namespace Appliance.Protocols.Tests.Sql;

public sealed class SqlShapeTests
{
    private static string? Shape(string sql, out int numbers, bool standardConformingStrings = true)
    {
        var text = Encoding.UTF8.GetBytes(sql);
        var destination = new byte[text.Length];
        if (!SqlShape.TryWrite(text, new SqlLexerOptions(standardConformingStrings), destination, out int written, out numbers))
        {
            return null;
        }
        return Encoding.UTF8.GetString(destination, 0, written).Replace("\0", "#");
    }

    [Theory]
    [InlineData("select * from t where id = 42", "select * from t where id = #", 1)]
    [InlineData("UPDATE a SET b = b + -5 WHERE id = 1.5e3;", "UPDATE a SET b = b + -# WHERE id = #;", 2)]
    [InlineData("select 0x1F, .5, 1_000, 1..2", "select #, #, #, #..#", 5)]
    [InlineData("select t1.c2 from t1 where s = '12' and \"3\" = $4 -- 5\n", "select t1.c2 from t1 where s = '12' and \"3\" = $4 -- 5\n", 0)]
    [InlineData("select $$ 1 $$, E'2\\'3', /* 4 */ 5", "select $$ 1 $$, E'2\\'3', /* 4 */ #", 1)]
    public void TryWrite_TakesOutNumberTokensOnly(string sql, string expected, int expectedNumbers)
    {
        Assert.Equal(expected, Shape(sql, out int numbers));
        Assert.Equal(expectedNumbers, numbers);
    }

    [Fact]
    public void TryWrite_FollowsTheLexerSetting()
    {
        // With standard_conforming_strings off the backslash escapes the quote, so "1" stays inside the string.
        Assert.Equal(@"select 'a\', #", Shape(@"select 'a\', 1", out _));
        Assert.Null(Shape(@"select 'a\', 1", out _, standardConformingStrings: false));
        Assert.Equal(@"select 'a\'', #", Shape(@"select 'a\'', 1", out _, standardConformingStrings: false));
    }

    [Theory]
    [InlineData("select 'open")]
    [InlineData("select /* open")]
    [InlineData("select \"\"")]
    public void TryWrite_RefusesWhatTheLexerCannotRead(string sql) => Assert.Null(Shape(sql, out _));

    [Fact]
    public void TryWrite_NeedsRoomForTheWholeText()
    {
        var text = "select 1"u8.ToArray();
        Assert.False(SqlShape.TryWrite(text, default, new byte[text.Length - 1], out _, out _));
    }

    // Pieces glued together without separators, so numbers run into names, dots and quotes: the cases where
    // a careless shape would merge different token streams.
    private static readonly string[] s_pieces = ["1", "12", "0", "x", "e", "a1", ".", "..", "\"1\"", "'1'", "$1", " ", "-", "_", "0x", "1e", "+"];

    private static readonly Gen<string> s_glued = Gen.OneOfConst(s_pieces).Array[0, 6].Select(string.Concat);

    [Fact]
    public void EqualShapes_MeanEqualTokensApartFromNumberDigits()
    {
        Gen.Select(s_glued, s_glued).Sample((a, b) =>
        {
            var shapeA = Shape(a, out int numbersA);
            var shapeB = Shape(b, out int numbersB);
            if (shapeA is null || shapeA != shapeB)
            {
                return true;
            }
            return numbersA == numbersB && Tokens(a).SequenceEqual(Tokens(b));
        }, iter: 50_000);
    }

    [Fact]
    public void OtherNumbers_GiveTheSameShape()
    {
        var numbers = Gen.OneOfConst("0", "7", "42", "3.25", ".5", "1e9", "0x1F", "1_000");
        var words = Gen.OneOfConst("select", "t", "where", "=", "+", "(", ")", ",", "'s1'", "\"c2\"", "$1");
        var parts = Gen.Select(Gen.Bool, words, numbers).Array[0, 12];
        Gen.Select(parts, numbers).Sample((pieces, other) =>
        {
            var first = string.Join(" ", pieces.Select(p => p.Item1 ? p.Item3 : p.Item2));
            var second = string.Join(" ", pieces.Select(p => p.Item1 ? other : p.Item2));
            return Shape(first, out _) is { } shape && shape == Shape(second, out _);
        }, iter: 20_000);
    }

    /// <summary>Every token's kind and text, numbers as their kind only.</summary>
    private static List<string> Tokens(string sql)
    {
        var text = Encoding.UTF8.GetBytes(sql);
        var lexer = new SqlLexer(text, default);
        var tokens = new List<string>();
        while (lexer.Read(out var token, out _) == OperationStatus.Done && token.Kind != SqlTokenKind.End)
        {
            tokens.Add(token.Kind == SqlTokenKind.Number ? "number" : $"{token.Kind}:{Encoding.UTF8.GetString(token.Slice(text))}");
        }
        return tokens;
    }
}

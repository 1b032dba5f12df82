using Appliance.Identity;
using CsCheck;

namespace Appliance.Tests.Identity;

public sealed class GlobPatternTests
{
    [Theory]
    [InlineData("acme/shop", "acme/shop", true)]
    [InlineData("acme/shop", "acme/shop2", false)]
    [InlineData("acme/shop", "acme/sho", false)]
    [InlineData("", "", true)]
    [InlineData("", "a", false)]
    [InlineData("*", "", true)]
    [InlineData("*", "anything at all", true)]
    [InlineData("repo:acme/*", "repo:acme/", true)]
    [InlineData("repo:acme/*", "repo:acme/shop:ref:refs/heads/main", true)]
    [InlineData("repo:acme/*", "repo:acmeco/shop", false)]
    [InlineData("*@refs/heads/main", "acme/shop/.github/workflows/ci.yml@refs/heads/main", true)]
    [InlineData("a*b*c", "abc", true)]
    [InlineData("a*b*c", "axxbyyc", true)]
    [InlineData("a*b*c", "acb", false)]
    [InlineData("a*a", "a", false)]
    [InlineData("a*a", "aa", true)]
    [InlineData("a**b", "ab", true)]
    [InlineData("*ab*ab*", "abab", true)]
    [InlineData("*ab*ab*", "aba", false)]
    [InlineData("ab*ba", "aba", false)]
    [InlineData("ACME/*", "acme/shop", false)]
    public void IsMatch_Examples_MatchWholeValue(string pattern, string value, bool expected)
    {
        Assert.Equal(expected, GlobPattern.Compile(pattern).IsMatch(value));
    }

    [Fact]
    public void IsMatch_RandomPatternsAndValues_AgreesWithReference()
    {
        // A small alphabet makes overlaps (the hard cases for a greedy matcher) common.
        var pattern = Gen.Char["ab*"].Array[0, 8].Select(c => new string(c));
        var value = Gen.Char["ab"].Array[0, 10].Select(c => new string(c));

        Gen.Select(pattern, value).Sample((p, v) => GlobPattern.Compile(p).IsMatch(v) == ReferenceMatch(p, v), iter: 20_000);
    }

    [Fact]
    public void IsMatch_ValueBuiltFromPattern_AlwaysMatches()
    {
        // Replacing each star with any text must give a matching value.
        var gen = Gen.Char["ab*"].Array[0, 8].Select(c => new string(c))
            .SelectMany(p => Gen.String[Gen.Char["ab*"], 0, 4].Array[p.Count(c => c == '*')].Select(fills => (p, fills)));

        gen.Sample(t =>
        {
            var parts = t.p.Split('*');
            var value = parts[0];
            for (var i = 1; i < parts.Length; i++)
            {
                value += t.fills[i - 1] + parts[i];
            }
            return GlobPattern.Compile(t.p).IsMatch(value);
        }, iter: 20_000);
    }

    // The obvious recursive definition: '*' eats nothing, or one character and stays.
    private static bool ReferenceMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> value)
    {
        if (pattern.IsEmpty)
        {
            return value.IsEmpty;
        }
        if (pattern[0] == '*')
        {
            return ReferenceMatch(pattern[1..], value) || (!value.IsEmpty && ReferenceMatch(pattern, value[1..]));
        }
        return !value.IsEmpty && pattern[0] == value[0] && ReferenceMatch(pattern[1..], value[1..]);
    }
}

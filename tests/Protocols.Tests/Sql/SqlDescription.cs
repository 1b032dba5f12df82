using System.Text;
using Appliance.Protocols.Postgres.Sql;

namespace Appliance.Protocols.Tests.Sql;

/// <summary>
/// Renders a classification as a compact, comparable text, e.g.
/// <c>Delete | r: u | w: public.t | f: lower | flags: WritingCte | inner: Select | name: p | effects: Delete, Select</c>.
/// Lists are sorted; attribute-notation functions are written <c>.name</c>.
/// </summary>
internal static class SqlDescription
{
    public static string Describe(string sql, SqlLexerOptions options = default) => Describe(Encoding.UTF8.GetBytes(sql), options);

    public static string Describe(byte[] text, SqlLexerOptions options = default)
    {
        var info = new SqlStatementInfo();
        var status = SqlClassifier.Classify(text, options, info);
        if (status != System.Buffers.OperationStatus.Done)
        {
            return $"{status}: {info.Error}";
        }
        return Describe(text, info);
    }

    public static string Describe(byte[] text, SqlStatementInfo info)
    {
        var parts = new List<string> { info.Class.ToString() };
        AddList(parts, "r", Names(text, info.TablesRead));
        AddList(parts, "w", Names(text, info.TablesWritten));
        var functions = new List<string>();
        foreach (var function in info.Functions)
        {
            functions.Add((function.IsAttributeNotation ? "." : "") + Format(text, function.Name));
        }
        AddList(parts, "f", functions);
        if (info.Flags != SqlStatementFlags.None)
        {
            parts.Add("flags: " + string.Join(", ", Enum.GetValues<SqlStatementFlags>()
                .Where(f => f != SqlStatementFlags.None && info.Flags.HasFlag(f)).Select(f => f.ToString()).Order(StringComparer.Ordinal)));
        }
        if (info.Class is SqlStatementClass.Prepare or SqlStatementClass.Explain)
        {
            parts.Add("inner: " + info.InnerClass);
        }
        if (!info.Name.IsEmpty)
        {
            var buffer = new byte[SqlName.MaxLength];
            parts.Add("name: " + Encoding.UTF8.GetString(buffer, 0, info.Name.Normalize(text, buffer)));
        }
        parts.Add("effects: " + Effects(info.Effects));
        return string.Join(" | ", parts);
    }

    public static string Effects(SqlEffects effects) =>
        string.Join(", ", Enum.GetValues<SqlStatementClass>()
            .Where(c => (effects & SqlStatementInfo.EffectOf(c)) != 0).Select(c => c.ToString()).Order(StringComparer.Ordinal));

    public static string Format(byte[] text, SqlObjectName name)
    {
        var buffer = new byte[SqlObjectName.MaxFormattedLength];
        Assert.True(name.TryFormat(text, buffer, out int written));
        return Encoding.UTF8.GetString(buffer, 0, written);
    }

    private static List<string> Names(byte[] text, ReadOnlySpan<SqlObjectName> names)
    {
        var list = new List<string>();
        foreach (var name in names)
        {
            list.Add(Format(text, name));
        }
        return list;
    }

    private static void AddList(List<string> parts, string key, List<string> items)
    {
        if (items.Count > 0)
        {
            parts.Add(key + ": " + string.Join(", ", items.Order(StringComparer.Ordinal)));
        }
    }

    /// <summary>
    /// Compares an expected description with the actual one: class, r, w, f and flags always (absent
    /// means empty); inner, name and effects only when the expectation names them.
    /// </summary>
    public static void AssertMatches(string expected, string actual, string sql)
    {
        var want = Parse(expected);
        var got = Parse(actual);
        foreach (var key in new[] { "class", "r", "w", "f", "flags" })
        {
            Assert.True(want.GetValueOrDefault(key, "") == got.GetValueOrDefault(key, ""),
                $"{sql}\n  expected: {expected}\n  actual:   {actual}");
        }
        foreach (var key in new[] { "inner", "name", "effects" })
        {
            if (want.TryGetValue(key, out var value))
            {
                Assert.True(value == got.GetValueOrDefault(key, ""), $"{sql}\n  expected: {expected}\n  actual:   {actual}");
            }
        }
    }

    private static Dictionary<string, string> Parse(string description)
    {
        var result = new Dictionary<string, string>();
        var segments = description.Split(" | ");
        result["class"] = segments[0].Trim();
        foreach (var segment in segments.Skip(1))
        {
            int colon = segment.IndexOf(": ", StringComparison.Ordinal);
            var key = segment[..colon].Trim();
            var values = segment[(colon + 2)..].Split(", ").Select(v => v.Trim());
            // Sort so expectations may be written in any order (effects and flags included).
            result[key] = string.Join(", ", values.Order(StringComparer.Ordinal));
        }
        return result;
    }
}

namespace Appliance.Protocols.Postgres.Sql;

/// <summary>Keyword lookup on bytes and PostgreSQL's keyword categories.</summary>
internal static partial class SqlKeywords
{
    /// <summary>The keyword <paramref name="word"/> spells (ASCII case-insensitive), or <see cref="SqlKeyword.None"/>.</summary>
    public static SqlKeyword Lookup(ReadOnlySpan<byte> word)
    {
        if (word.Length > MaxKeywordLength || word.IsEmpty)
        {
            return SqlKeyword.None;
        }
        uint hash = 2166136261;
        foreach (byte b in word)
        {
            hash = (hash ^ Lower(b)) * 16777619;
        }
        var names = Names;
        var starts = s_starts;
        var slots = s_slots;
        int slot = (int)(hash & SlotMask);
        while (true)
        {
            int keyword = slots[slot];
            if (keyword == 0)
            {
                return SqlKeyword.None;
            }
            int start = starts[keyword];
            if (starts[keyword + 1] - start == word.Length && EqualsLower(word, names.Slice(start, word.Length)))
            {
                return (SqlKeyword)keyword;
            }
            slot = (slot + 1) & SlotMask;
        }
    }

    /// <summary>Reserved: never a name or an alias without quotes (SELECT, FROM, WHERE, ...).</summary>
    public static bool IsReserved(SqlKeyword keyword) => (Categories[(int)keyword] & 3) == 3;

    /// <summary>Type or function name keyword (LEFT, JOIN, LIKE, ...): a function name, never a table name or alias.</summary>
    public static bool IsTypeFunctionName(SqlKeyword keyword) => (Categories[(int)keyword] & 3) == 2;

    /// <summary>Usable as a table, column or alias name without quotes (PostgreSQL's ColId).</summary>
    public static bool IsColumnId(SqlKeyword keyword) => (Categories[(int)keyword] & 3) < 2;

    /// <summary>The keyword's text, lower case.</summary>
    public static ReadOnlySpan<byte> Text(SqlKeyword keyword)
    {
        var starts = s_starts;
        int start = starts[(int)keyword];
        return Names[start..starts[(int)keyword + 1]];
    }

    private static byte Lower(byte b) => b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;

    private static bool EqualsLower(ReadOnlySpan<byte> word, ReadOnlySpan<byte> lower)
    {
        for (int i = 0; i < word.Length; i++)
        {
            if (Lower(word[i]) != lower[i])
            {
                return false;
            }
        }
        return true;
    }
}

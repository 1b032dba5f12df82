namespace Appliance.Protocols.Postgres.Sql;

/// <summary>One token: a kind and a byte range of the text it was read from.</summary>
public readonly struct SqlToken
{
    internal SqlToken(SqlTokenKind kind, SqlTokenFlags flags, SqlKeyword keyword, int start, int length)
    {
        Kind = kind;
        Flags = flags;
        Keyword = keyword;
        Start = start;
        Length = length;
    }

    /// <summary>What the token is.</summary>
    public SqlTokenKind Kind { get; }

    /// <summary>String and identifier details.</summary>
    public SqlTokenFlags Flags { get; }

    /// <summary>The keyword an unquoted identifier spells, else <see cref="SqlKeyword.None"/>.</summary>
    internal SqlKeyword Keyword { get; }

    /// <summary>Offset of the first byte.</summary>
    public int Start { get; }

    /// <summary>Length in bytes (a string continued over lines spans all its parts).</summary>
    public int Length { get; }

    /// <summary>Offset just past the token.</summary>
    public int End => Start + Length;

    /// <summary>The token's bytes within <paramref name="text"/>.</summary>
    public ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> text) => text.Slice(Start, Length);

    internal static SqlToken EndAt(int offset) => new(SqlTokenKind.End, SqlTokenFlags.None, SqlKeyword.None, offset, 0);
}

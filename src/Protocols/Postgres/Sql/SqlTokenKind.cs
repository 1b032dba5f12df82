namespace Appliance.Protocols.Postgres.Sql;

/// <summary>What a <see cref="SqlToken"/> is.</summary>
public enum SqlTokenKind : byte
{
    /// <summary>No token read yet.</summary>
    None = 0,

    /// <summary>End of the text (or of the statement, at a top-level <c>;</c>, when read through the splitter).</summary>
    End,

    /// <summary>Unquoted identifier or keyword; compared case-insensitively.</summary>
    Identifier,

    /// <summary><c>"..."</c> or <c>U&amp;"..."</c>; case kept.</summary>
    QuotedIdentifier,

    /// <summary>Any string constant: <c>'...'</c>, <c>E'...'</c>, <c>N'...'</c>, <c>U&amp;'...'</c>, <c>B'...'</c>, <c>X'...'</c>, <c>$tag$...$tag$</c>.</summary>
    String,

    /// <summary>Numeric constant.</summary>
    Number,

    /// <summary>Positional parameter <c>$1</c>.</summary>
    Parameter,

    /// <summary>Operator (<c>+</c>, <c>&lt;&gt;</c>, <c>:=</c>, <c>=&gt;</c>, <c>*</c>, ...).</summary>
    Operator,

    /// <summary><c>(</c></summary>
    LeftParen,

    /// <summary><c>)</c></summary>
    RightParen,

    /// <summary><c>[</c></summary>
    LeftBracket,

    /// <summary><c>]</c></summary>
    RightBracket,

    /// <summary><c>,</c></summary>
    Comma,

    /// <summary><c>;</c></summary>
    Semicolon,

    /// <summary><c>.</c></summary>
    Dot,

    /// <summary><c>:</c></summary>
    Colon,

    /// <summary><c>::</c></summary>
    DoubleColon,

    /// <summary>A byte PostgreSQL's grammar has no use for (a lone <c>$</c>, <c>\</c>, <c>{</c>, control characters).</summary>
    Other,
}

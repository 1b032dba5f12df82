namespace Appliance.Protocols.Postgres.Sql;

/// <summary>Details of string and identifier tokens.</summary>
[Flags]
public enum SqlTokenFlags : byte
{
    None = 0,

    /// <summary><c>U&amp;'...'</c> or <c>U&amp;"..."</c>: Unicode escapes are decoded by the server, not here.</summary>
    UnicodeEscapes = 1,

    /// <summary>Backslash escapes apply: <c>E'...'</c>, or a plain string with <c>standard_conforming_strings</c> off.</summary>
    BackslashEscapes = 2,

    /// <summary><c>B'...'</c></summary>
    Bit = 4,

    /// <summary><c>X'...'</c></summary>
    Hex = 8,

    /// <summary><c>$$...$$</c> or <c>$tag$...$tag$</c></summary>
    DollarQuoted = 16,

    /// <summary><c>N'...'</c></summary>
    National = 32,
}

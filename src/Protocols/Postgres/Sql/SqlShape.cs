using System.Buffers;

namespace Appliance.Protocols.Postgres.Sql;

/// <summary>
/// A statement text with the values of its numeric constants taken out: <c>select * from t where id = 42</c>
/// and <c>select * from t where id = 7</c> have one shape. Nothing else changes (strings, names, whitespace
/// and comments are kept as they are), so two texts share a shape only when the lexer reads the same tokens
/// from both, apart from the digits of numbers: the shape is a cache key for anything that does not depend on
/// those digits.
/// </summary>
public static class SqlShape
{
    /// <summary>
    /// Stands for one number. Statement text never holds a NUL byte (messages end their strings with it, and the
    /// lexer refuses one), so a shape with a number can never equal a statement text.
    /// </summary>
    public const byte NumberMarker = 0;

    /// <summary>
    /// Writes the shape of <paramref name="sql"/> to <paramref name="destination"/> (at most as long as the text).
    /// Returns false when the lexer cannot read the text or the destination is too short; <paramref name="numbers"/>
    /// is how many numbers were taken out (with none, the shape is the text itself).
    /// </summary>
    public static bool TryWrite(ReadOnlySpan<byte> sql, in SqlLexerOptions options, Span<byte> destination, out int written, out int numbers)
    {
        written = 0;
        numbers = 0;
        if (destination.Length < sql.Length)
        {
            return false;
        }
        int copied = 0;
        int position = 0;
        while (true)
        {
            if (SqlLexer.Scan(sql, position, !options.StandardConformingStrings, out var token, out _, keywords: false) != OperationStatus.Done)
            {
                return false;
            }
            position = token.End;
            if (token.Kind == SqlTokenKind.End)
            {
                break;
            }
            if (token.Kind != SqlTokenKind.Number)
            {
                continue;
            }
            sql[copied..token.Start].CopyTo(destination[written..]);
            written += token.Start - copied;
            destination[written++] = NumberMarker;
            copied = token.End;
            numbers++;
        }
        sql[copied..].CopyTo(destination[written..]);
        written += sql.Length - copied;
        return true;
    }
}

using System.Buffers;

namespace Appliance.Protocols.Postgres.Sql;

/// <summary>Splits the text of one simple Query message into statements, as the server's grammar does.</summary>
public static class SqlSplitter
{
    /// <summary>
    /// Finds the next statement at or after <paramref name="offset"/>: its range runs from its first token
    /// to the end of its last token, without the <c>;</c>. Statements end at a <c>;</c> outside strings,
    /// comments, dollar quotes, parentheses, brackets and <c>BEGIN ATOMIC ... END</c> bodies; empty
    /// statements are skipped. Returns <see cref="OperationStatus.Done"/> with a statement and
    /// <paramref name="offset"/> moved past it; <see cref="OperationStatus.NeedMoreData"/> when no statement
    /// is left (only whitespace, comments or <c>;</c>); <see cref="OperationStatus.InvalidData"/> with a
    /// reason on unterminated or unbalanced constructs (the whole message must then be refused).
    /// </summary>
    public static OperationStatus TryNextStatement(ReadOnlySpan<byte> text, ref int offset, in SqlLexerOptions options, out Range statement, out string? error)
    {
        statement = default;
        if ((uint)offset > (uint)text.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(offset));
        }
        while (true)
        {
            var reader = new SqlTokenReader(text, offset, options);
            reader.Advance();
            if (reader.AtEnd)
            {
                error = reader.Error;
                if (error is not null)
                {
                    return OperationStatus.InvalidData;
                }
                if (reader.EndedAtSemicolon)
                {
                    offset = reader.NextOffset;
                    continue;
                }
                offset = text.Length;
                return OperationStatus.NeedMoreData;
            }
            int start = reader.Current.Start;
            int end = reader.Current.End;
            while (true)
            {
                reader.Advance();
                if (reader.AtEnd)
                {
                    break;
                }
                end = reader.Current.End;
            }
            error = reader.Error;
            if (error is not null)
            {
                return OperationStatus.InvalidData;
            }
            statement = start..end;
            offset = reader.EndedAtSemicolon ? reader.NextOffset : text.Length;
            return OperationStatus.Done;
        }
    }
}

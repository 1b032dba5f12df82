using System.Buffers;

namespace Appliance.Protocols.Postgres.Sql;

/// <summary>
/// Classifies one statement for the policy: class, effects, tables read and written, functions
/// called, and flags. Call it for each statement of a Query message (from <see cref="SqlSplitter"/>)
/// and for the text of each Parse message. Allocates nothing.
/// </summary>
public static class SqlClassifier
{
    /// <summary>
    /// Classifies <paramref name="statement"/> into <paramref name="result"/> (reset first).
    /// <see cref="OperationStatus.Done"/>: classified (possibly as <see cref="SqlStatementClass.Other"/>
    /// or <see cref="SqlStatementClass.Empty"/>; a trailing <c>;</c> is fine).
    /// <see cref="OperationStatus.InvalidData"/>: unterminated quote, comment or dollar string, unbalanced
    /// parentheses, a NUL byte, or more than one statement; <see cref="SqlStatementInfo.Error"/> says
    /// which and the class is Other. Never throws on any input.
    /// </summary>
    public static OperationStatus Classify(ReadOnlySpan<byte> statement, in SqlLexerOptions options, SqlStatementInfo result)
    {
        ArgumentNullException.ThrowIfNull(result);
        result.Reset();
        var parser = new SqlParser(statement, options, result);
        return parser.Run();
    }
}

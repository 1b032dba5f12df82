using System.Buffers;
using System.Security.Cryptography;
using Appliance.Protocols.Postgres.Sql;

namespace Appliance.Approvals;

/// <summary>
/// A statement's fingerprint: SHA-256 (hex) of its normalised token stream, so that whitespace, comments,
/// keyword case and literal values do not change it. <c>ALTER TABLE t ADD c int DEFAULT 1</c> and
/// <c>alter  table T add c INT default 2 -- x</c> share one. Quoted identifiers keep their case.
/// </summary>
public static class StatementFingerprint
{
    /// <summary>The fingerprint of <paramref name="sql"/>; null when the lexer cannot read it.</summary>
    public static string? Compute(ReadOnlySpan<byte> sql, bool standardConformingStrings = true)
    {
        var normal = new ArrayBufferWriter<byte>(Math.Max(16, sql.Length));
        var lexer = new SqlLexer(sql, new SqlLexerOptions(standardConformingStrings));
        int pendingSemicolons = 0;
        while (true)
        {
            if (lexer.Read(out var token, out _) != OperationStatus.Done)
            {
                return null;
            }
            if (token.Kind == SqlTokenKind.End)
            {
                break;
            }
            if (token.Kind == SqlTokenKind.Semicolon)
            {
                pendingSemicolons++;
                continue;
            }
            for (; pendingSemicolons > 0; pendingSemicolons--)
            {
                Append(normal, ";"u8);
            }
            switch (token.Kind)
            {
                case SqlTokenKind.String:
                case SqlTokenKind.Number:
                case SqlTokenKind.Parameter:
                    Append(normal, "?"u8);
                    break;
                case SqlTokenKind.Identifier:
                    var text = token.Slice(sql);
                    var span = normal.GetSpan(text.Length + 1);
                    if (normal.WrittenCount > 0) span[0] = (byte)' ';
                    int offset = normal.WrittenCount > 0 ? 1 : 0;
                    for (int i = 0; i < text.Length; i++)
                    {
                        byte b = text[i];
                        span[offset + i] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
                    }
                    normal.Advance(offset + text.Length);
                    break;
                default:
                    Append(normal, token.Slice(sql));
                    break;
            }
        }
        // Trailing semicolons are dropped: "x;" and "x" are one statement.
        return normal.WrittenCount == 0 ? null : Convert.ToHexStringLower(SHA256.HashData(normal.WrittenSpan));
    }

    /// <summary>The fingerprint of a statement given as text.</summary>
    public static string? Compute(string sql) => Compute(System.Text.Encoding.UTF8.GetBytes(sql));

    private static void Append(ArrayBufferWriter<byte> output, ReadOnlySpan<byte> token)
    {
        var span = output.GetSpan(token.Length + 1);
        int offset = 0;
        if (output.WrittenCount > 0)
        {
            span[0] = (byte)' ';
            offset = 1;
        }
        token.CopyTo(span[offset..]);
        output.Advance(offset + token.Length);
    }
}

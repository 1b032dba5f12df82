using System.Buffers.Binary;

namespace Appliance.Protocols.Postgres;

/// <summary>Reads the fields the gateway decides on from whole frontend message payloads.</summary>
public static class PgMessageFields
{
    /// <summary>Query: the SQL text (without its terminator).</summary>
    public static bool TryReadQuery(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> sql)
        => TryReadCString(payload, out sql, out var rest) && rest.IsEmpty;

    /// <summary>Parse: statement name and SQL text; parameter type OIDs are checked for length only.</summary>
    public static bool TryReadParse(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> statementName, out ReadOnlySpan<byte> sql)
    {
        sql = default;
        if (!TryReadCString(payload, out statementName, out var rest) || !TryReadCString(rest, out sql, out rest) || rest.Length < 2)
        {
            return false;
        }
        int count = BinaryPrimitives.ReadInt16BigEndian(rest);
        return count >= 0 && rest.Length == 2 + count * 4;
    }

    /// <summary>Bind: the source statement name (the portal name is not needed to decide).</summary>
    public static bool TryReadBind(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> statementName)
    {
        statementName = default;
        return TryReadCString(payload, out _, out var rest) && TryReadCString(rest, out statementName, out _);
    }

    /// <summary>Bind: portal, statement, and the result format codes (0: all text; 1: all alike; else one per column).</summary>
    public static bool TryReadBindResult(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> portal, out ReadOnlySpan<byte> statementName, out ReadOnlySpan<byte> resultFormats)
    {
        statementName = resultFormats = default;
        if (!TryReadCString(payload, out portal, out var rest) || !TryReadCString(rest, out statementName, out rest) || rest.Length < 2)
        {
            return false;
        }
        int formats = BinaryPrimitives.ReadInt16BigEndian(rest);
        if (formats < 0 || rest.Length < 2 + formats * 2 + 2)
        {
            return false;
        }
        rest = rest[(2 + formats * 2)..];
        int parameters = BinaryPrimitives.ReadInt16BigEndian(rest);
        if (parameters < 0)
        {
            return false;
        }
        rest = rest[2..];
        for (int i = 0; i < parameters; i++)
        {
            if (rest.Length < 4)
            {
                return false;
            }
            int length = BinaryPrimitives.ReadInt32BigEndian(rest);
            if (length < -1 || rest.Length - 4 < Math.Max(length, 0))
            {
                return false;
            }
            rest = rest[(4 + Math.Max(length, 0))..];
        }
        if (rest.Length < 2)
        {
            return false;
        }
        int results = BinaryPrimitives.ReadInt16BigEndian(rest);
        if (results < 0 || rest.Length != 2 + results * 2)
        {
            return false;
        }
        resultFormats = rest[2..];
        return true;
    }

    /// <summary>Execute: the portal name.</summary>
    public static bool TryReadExecute(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> portal)
        => TryReadCString(payload, out portal, out var rest) && rest.Length == 4;

    /// <summary>Close or Describe: 'S' (statement) or 'P' (portal), and the name.</summary>
    public static bool TryReadClose(ReadOnlySpan<byte> payload, out byte kind, out ReadOnlySpan<byte> name)
    {
        name = default;
        kind = payload.IsEmpty ? (byte)0 : payload[0];
        return kind is (byte)'S' or (byte)'P' && TryReadCString(payload[1..], out name, out var rest) && rest.IsEmpty;
    }

    private static bool TryReadCString(ReadOnlySpan<byte> data, out ReadOnlySpan<byte> value, out ReadOnlySpan<byte> rest)
    {
        int end = data.IndexOf((byte)0);
        if (end < 0)
        {
            value = rest = default;
            return false;
        }
        value = data[..end];
        rest = data[(end + 1)..];
        return true;
    }
}

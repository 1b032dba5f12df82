using Appliance.Storage;

namespace Appliance.Recording;

/// <summary>
/// The payload of each <see cref="RecordKind"/>: a version byte (1), then the fields in order (see each
/// <c>Write…</c>), in <see cref="RecordPayloadWriter"/>'s encoding. Decoding never throws: what does not parse
/// becomes a <see cref="MalformedRecord"/>.
/// </summary>
public static class RecordCodec
{
    public const byte Version = 1;

    /// <summary>Longest name-like string kept (subject, role, table, tag…), in characters.</summary>
    public const int MaxNameChars = 1024;

    /// <summary>Longest message kept (errors, notices, reasons), in characters.</summary>
    public const int MaxMessageChars = 8192;

    /// <summary>Most list items kept (roles, tables).</summary>
    public const int MaxItems = 256;

    internal static int SessionStartSize(SessionStartInfo info)
    {
        var size = 1 + RecordPayloadWriter.MaxVarIntSize;
        foreach (var text in (ReadOnlySpan<string>)[info.Subject, info.Issuer, info.ClaimsDigest, info.Target, info.TargetKind, info.ClientAddress, info.TlsProtocol])
        {
            size += RecordPayloadWriter.MaxStringSize(text, MaxNameChars);
        }
        return size + ListSize(info.Roles);
    }

    /// <summary><c>v | subject | issuer | roles | claims digest | target | target kind | client address | TLS protocol</c>.</summary>
    internal static void WriteSessionStart(ref RecordPayloadWriter w, SessionStartInfo info)
    {
        w.WriteByte(Version);
        w.WriteString(info.Subject, MaxNameChars);
        w.WriteString(info.Issuer, MaxNameChars);
        w.WriteStringList(info.Roles, MaxItems, MaxNameChars);
        w.WriteString(info.ClaimsDigest, MaxNameChars);
        w.WriteString(info.Target, MaxNameChars);
        w.WriteString(info.TargetKind, MaxNameChars);
        w.WriteString(info.ClientAddress, MaxNameChars);
        w.WriteString(info.TlsProtocol, MaxNameChars);
    }

    internal static int StatementSize(int textLength, string statementClass, IReadOnlyList<string>? tables, string decision) =>
        2 + RecordPayloadWriter.MaxBytesSize(textLength) + 3 * RecordPayloadWriter.MaxVarIntSize
        + RecordPayloadWriter.MaxStringSize(statementClass, MaxNameChars) + ListSize(tables)
        + RecordPayloadWriter.MaxStringSize(decision, MaxNameChars);

    /// <summary><c>v | flags (1: text truncated) | text | full text length | class | tables | decision | rule (zigzag)</c>.</summary>
    internal static void WriteStatement(ref RecordPayloadWriter w, ReadOnlySpan<byte> text, long fullLength, string statementClass,
        IReadOnlyList<string>? tables, string decision, int rule)
    {
        w.WriteByte(Version);
        w.WriteByte(text.Length < fullLength ? (byte)1 : (byte)0);
        w.WriteBytes(text);
        w.WriteVarUInt((ulong)fullLength);
        w.WriteString(statementClass, MaxNameChars);
        w.WriteStringList(tables, MaxItems, MaxNameChars);
        w.WriteString(decision, MaxNameChars);
        w.WriteVarInt(rule);
    }

    /// <summary><see cref="StatementSize(int, string, IReadOnlyList{string}, string)"/> for tables packed as UTF-8 names.</summary>
    internal static int StatementSize(int textLength, string statementClass, ReadOnlySpan<byte> names, ReadOnlySpan<Range> tables, string decision)
    {
        var size = 2 + RecordPayloadWriter.MaxBytesSize(textLength) + 3 * RecordPayloadWriter.MaxVarIntSize
            + RecordPayloadWriter.MaxStringSize(statementClass, MaxNameChars) + RecordPayloadWriter.MaxStringSize(decision, MaxNameChars);
        var count = Math.Min(tables.Length, MaxItems);
        for (var i = 0; i < count; i++)
        {
            size += RecordPayloadWriter.MaxUtf8StringSize(tables[i].GetOffsetAndLength(names.Length).Length, MaxNameChars);
        }
        return size;
    }

    /// <summary>The same layout as <see cref="WriteStatement(ref RecordPayloadWriter, ReadOnlySpan{byte}, long, string, IReadOnlyList{string}, string, int)"/>, from the gate's packed names: no string per table.</summary>
    internal static void WriteStatement(ref RecordPayloadWriter w, ReadOnlySpan<byte> text, long fullLength, string statementClass,
        ReadOnlySpan<byte> names, ReadOnlySpan<Range> tables, string decision, int rule)
    {
        w.WriteByte(Version);
        w.WriteByte(text.Length < fullLength ? (byte)1 : (byte)0);
        w.WriteBytes(text);
        w.WriteVarUInt((ulong)fullLength);
        w.WriteString(statementClass, MaxNameChars);
        w.WriteUtf8StringList(names, tables, MaxItems, MaxNameChars);
        w.WriteString(decision, MaxNameChars);
        w.WriteVarInt(rule);
    }

    internal static int ResultSize(string commandTag, string? sqlState, string? message) =>
        2 + 4 * RecordPayloadWriter.MaxVarIntSize + RecordPayloadWriter.MaxStringSize(commandTag, MaxNameChars)
        + RecordPayloadWriter.MaxStringSize(sqlState, MaxNameChars) + RecordPayloadWriter.MaxStringSize(message, MaxMessageChars);

    /// <summary><c>v | flags (1: rows truncated) | command tag | rows (zigzag) | SQLSTATE | message | rows recorded</c>.</summary>
    internal static void WriteResult(ref RecordPayloadWriter w, string commandTag, long rows, string? sqlState, string? message,
        long rowsRecorded, bool rowsTruncated)
    {
        w.WriteByte(Version);
        w.WriteByte(rowsTruncated ? (byte)1 : (byte)0);
        w.WriteString(commandTag, MaxNameChars);
        w.WriteVarInt(rows);
        w.WriteString(sqlState, MaxNameChars);
        w.WriteString(message, MaxMessageChars);
        w.WriteVarUInt((ulong)Math.Max(0, rowsRecorded));
    }

    internal static int ResultSize(ReadOnlySpan<byte> commandTag, string? sqlState, string? message) =>
        2 + 4 * RecordPayloadWriter.MaxVarIntSize + RecordPayloadWriter.MaxUtf8StringSize(commandTag.Length, MaxNameChars)
        + RecordPayloadWriter.MaxStringSize(sqlState, MaxNameChars) + RecordPayloadWriter.MaxStringSize(message, MaxMessageChars);

    /// <summary>The same layout as <see cref="WriteResult(ref RecordPayloadWriter, string, long, string?, string?, long, bool)"/>, with the tag as UTF-8 from the wire.</summary>
    internal static void WriteResult(ref RecordPayloadWriter w, ReadOnlySpan<byte> commandTag, long rows, string? sqlState, string? message,
        long rowsRecorded, bool rowsTruncated)
    {
        w.WriteByte(Version);
        w.WriteByte(rowsTruncated ? (byte)1 : (byte)0);
        w.WriteUtf8String(commandTag, MaxNameChars);
        w.WriteVarInt(rows);
        w.WriteString(sqlState, MaxNameChars);
        w.WriteString(message, MaxMessageChars);
        w.WriteVarUInt((ulong)Math.Max(0, rowsRecorded));
    }

    internal static int NoticeSize(string severity, string sqlState, string message) =>
        1 + RecordPayloadWriter.MaxStringSize(severity, MaxNameChars) + RecordPayloadWriter.MaxStringSize(sqlState, MaxNameChars)
        + RecordPayloadWriter.MaxStringSize(message, MaxMessageChars);

    /// <summary><c>v | severity | SQLSTATE | message</c>.</summary>
    internal static void WriteNotice(ref RecordPayloadWriter w, string severity, string sqlState, string message)
    {
        w.WriteByte(Version);
        w.WriteString(severity, MaxNameChars);
        w.WriteString(sqlState, MaxNameChars);
        w.WriteString(message, MaxMessageChars);
    }

    internal static int ApprovalSize(string @event, string requestId, string actor, string detail) =>
        1 + RecordPayloadWriter.MaxStringSize(@event, MaxNameChars) + RecordPayloadWriter.MaxStringSize(requestId, MaxNameChars)
        + RecordPayloadWriter.MaxStringSize(actor, MaxNameChars) + RecordPayloadWriter.MaxStringSize(detail, MaxMessageChars);

    /// <summary><c>v | event | request id | actor | detail</c>.</summary>
    internal static void WriteApproval(ref RecordPayloadWriter w, string @event, string requestId, string actor, string detail)
    {
        w.WriteByte(Version);
        w.WriteString(@event, MaxNameChars);
        w.WriteString(requestId, MaxNameChars);
        w.WriteString(actor, MaxNameChars);
        w.WriteString(detail, MaxMessageChars);
    }

    internal static int SessionEndSize(string reason) => 1 + 3 * RecordPayloadWriter.MaxVarIntSize + RecordPayloadWriter.MaxStringSize(reason, MaxMessageChars);

    /// <summary><c>v | reason | bytes from client | bytes from server | statements</c>.</summary>
    internal static void WriteSessionEnd(ref RecordPayloadWriter w, string reason, long bytesFromClient, long bytesFromServer, long statements)
    {
        w.WriteByte(Version);
        w.WriteString(reason, MaxMessageChars);
        w.WriteVarUInt((ulong)Math.Max(0, bytesFromClient));
        w.WriteVarUInt((ulong)Math.Max(0, bytesFromServer));
        w.WriteVarUInt((ulong)Math.Max(0, statements));
    }

    // Result rows: v | rows, each a byte string (a DataRow body), to the end of the payload. Written by SessionRecorder.

    /// <summary>Decodes a stored record of a session.</summary>
    public static RecordedEvent Decode(in StoredRecord record) => Decode(record.Type, record.SessionId, record.Sequence, record.Time, record.Payload.Span);

    /// <summary>Decodes a payload; a <see cref="MalformedRecord"/> when it does not parse.</summary>
    public static RecordedEvent Decode(byte type, Guid session, ulong sequence, DateTimeOffset time, ReadOnlySpan<byte> payload)
    {
        var r = new RecordPayloadReader(payload);
        RecordedEvent? decoded = null;
        if (r.TryReadByte(out var version) && version == Version)
        {
            decoded = (RecordKind)type switch
            {
                RecordKind.SessionStart => DecodeSessionStart(ref r, session, sequence, time),
                RecordKind.Statement => DecodeStatement(ref r, session, sequence, time),
                RecordKind.Result => DecodeResult(ref r, session, sequence, time),
                RecordKind.ResultRows => DecodeRows(ref r, session, sequence, time),
                RecordKind.Notice => r.TryReadString(out var severity) && r.TryReadString(out var state) && r.TryReadString(out var message)
                    ? new NoticeRecord(session, sequence, time, severity, state, message) : null,
                RecordKind.Approval => r.TryReadString(out var e) && r.TryReadString(out var id) && r.TryReadString(out var actor) && r.TryReadString(out var detail)
                    ? new ApprovalRecord(session, sequence, time, e, id, actor, detail) : null,
                RecordKind.SessionEnd => r.TryReadString(out var reason) && r.TryReadVarUInt(out var fromClient)
                    && r.TryReadVarUInt(out var fromServer) && r.TryReadVarUInt(out var statements)
                    ? new SessionEndRecord(session, sequence, time, reason, (long)fromClient, (long)fromServer, (long)statements) : null,
                _ => null,
            };
        }
        return decoded is not null && r.AtEnd ? decoded : new MalformedRecord(session, sequence, time, type, payload.Length);
    }

    private static SessionStartRecord? DecodeSessionStart(ref RecordPayloadReader r, Guid session, ulong sequence, DateTimeOffset time) =>
        r.TryReadString(out var subject) && r.TryReadString(out var issuer) && r.TryReadStringList(out var roles)
        && r.TryReadString(out var digest) && r.TryReadString(out var target) && r.TryReadString(out var kind)
        && r.TryReadString(out var client) && r.TryReadString(out var tls)
            ? new SessionStartRecord(session, sequence, time, subject, issuer, roles, digest, target, kind, client, tls)
            : null;

    private static StatementRecord? DecodeStatement(ref RecordPayloadReader r, Guid session, ulong sequence, DateTimeOffset time)
    {
        if (!r.TryReadByte(out var flags) || flags > 1 || !r.TryReadBytes(out var text) || !r.TryReadVarUInt(out var fullLength)
            || !r.TryReadString(out var statementClass) || !r.TryReadStringList(out var tables) || !r.TryReadString(out var decision)
            || !r.TryReadVarInt(out var rule) || rule < int.MinValue || rule > int.MaxValue)
        {
            return null;
        }
        return new StatementRecord(session, sequence, time, text.ToArray(), flags == 1, (long)fullLength, statementClass, tables, decision, (int)rule);
    }

    private static ResultRecord? DecodeResult(ref RecordPayloadReader r, Guid session, ulong sequence, DateTimeOffset time) =>
        r.TryReadByte(out var flags) && flags <= 1 && r.TryReadString(out var tag) && r.TryReadVarInt(out var rows)
        && r.TryReadString(out var state) && r.TryReadString(out var message) && r.TryReadVarUInt(out var recorded)
            ? new ResultRecord(session, sequence, time, tag, rows, state, message, (long)recorded, flags == 1)
            : null;

    private static ResultRowsRecord? DecodeRows(ref RecordPayloadReader r, Guid session, ulong sequence, DateTimeOffset time)
    {
        var rows = new List<byte[]>();
        while (!r.AtEnd)
        {
            if (!r.TryReadBytes(out var row))
            {
                return null;
            }
            rows.Add(row.ToArray());
        }
        return new ResultRowsRecord(session, sequence, time, rows);
    }

    private static int ListSize(IReadOnlyList<string>? values)
    {
        var size = RecordPayloadWriter.MaxVarIntSize;
        var count = Math.Min(values?.Count ?? 0, MaxItems);
        for (var i = 0; i < count; i++)
        {
            size += RecordPayloadWriter.MaxStringSize(values![i], MaxNameChars);
        }
        return size;
    }
}

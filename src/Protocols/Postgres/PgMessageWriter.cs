using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Appliance.Protocols.Postgres;

/// <summary>Builds the messages the gateway originates (it forwards everything else as received bytes).</summary>
public static class PgMessageWriter
{
    /// <summary>ErrorResponse or NoticeResponse with severity, SQLSTATE and message fields.</summary>
    public static void WriteError(IBufferWriter<byte> writer, string severity, string sqlState, string message, string? detail = null, string? hint = null)
        => WriteNoticeOrError(writer, PgBackend.ErrorResponse, severity, sqlState, message, detail, hint);

    public static void WriteNotice(IBufferWriter<byte> writer, string severity, string sqlState, string message, string? detail = null, string? hint = null)
        => WriteNoticeOrError(writer, PgBackend.NoticeResponse, severity, sqlState, message, detail, hint);

    private static void WriteNoticeOrError(IBufferWriter<byte> writer, byte type, string severity, string sqlState, string message, string? detail, string? hint)
    {
        int length = 4 + Field(severity) * 2 + Field(sqlState) + Field(message) + 1;
        if (detail is not null) length += Field(detail);
        if (hint is not null) length += Field(hint);
        var span = Begin(writer, type, length);
        int pos = 5;
        pos = PutField(span, pos, (byte)'S', severity);
        pos = PutField(span, pos, (byte)'V', severity);
        pos = PutField(span, pos, (byte)'C', sqlState);
        pos = PutField(span, pos, (byte)'M', message);
        if (detail is not null) pos = PutField(span, pos, (byte)'D', detail);
        if (hint is not null) pos = PutField(span, pos, (byte)'H', hint);
        span[pos++] = 0;
        writer.Advance(pos);
    }

    public static void WriteAuthentication(IBufferWriter<byte> writer, int code, ReadOnlySpan<byte> data = default)
    {
        var span = Begin(writer, PgBackend.Authentication, 8 + data.Length);
        BinaryPrimitives.WriteInt32BigEndian(span[5..], code);
        data.CopyTo(span[9..]);
        writer.Advance(9 + data.Length);
    }

    public static void WriteBackendKeyData(IBufferWriter<byte> writer, int processId, int secretKey)
    {
        var span = Begin(writer, PgBackend.BackendKeyData, 12);
        BinaryPrimitives.WriteInt32BigEndian(span[5..], processId);
        BinaryPrimitives.WriteInt32BigEndian(span[9..], secretKey);
        writer.Advance(13);
    }

    public static void WriteParameterStatus(IBufferWriter<byte> writer, string name, string value)
    {
        var span = Begin(writer, PgBackend.ParameterStatus, 4 + Cstr(name) + Cstr(value));
        int pos = PutCstr(span, 5, name);
        pos = PutCstr(span, pos, value);
        writer.Advance(pos);
    }

    public static void WriteReadyForQuery(IBufferWriter<byte> writer, byte status)
    {
        var span = Begin(writer, PgBackend.ReadyForQuery, 5);
        span[5] = status;
        writer.Advance(6);
    }

    /// <summary>Frontend 'p' message: password, SASLInitialResponse or SASLResponse body as given.</summary>
    public static void WritePasswordMessage(IBufferWriter<byte> writer, ReadOnlySpan<byte> body)
    {
        var span = Begin(writer, PgFrontend.Password, 4 + body.Length);
        body.CopyTo(span[5..]);
        writer.Advance(5 + body.Length);
    }

    /// <summary>SASLInitialResponse: mechanism name, then the length-prefixed client-first message.</summary>
    public static void WriteSaslInitialResponse(IBufferWriter<byte> writer, string mechanism, ReadOnlySpan<byte> data)
    {
        var span = Begin(writer, PgFrontend.Password, 4 + Cstr(mechanism) + 4 + data.Length);
        int pos = PutCstr(span, 5, mechanism);
        BinaryPrimitives.WriteInt32BigEndian(span[pos..], data.Length);
        data.CopyTo(span[(pos + 4)..]);
        writer.Advance(pos + 4 + data.Length);
    }

    public static void WriteStartupMessage(IBufferWriter<byte> writer, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        int length = 8 + 1;
        foreach (var p in parameters) length += Cstr(p.Key) + Cstr(p.Value);
        var span = writer.GetSpan(length);
        BinaryPrimitives.WriteInt32BigEndian(span, length);
        BinaryPrimitives.WriteInt32BigEndian(span[4..], PgStartupCodes.Protocol30);
        int pos = 8;
        foreach (var p in parameters)
        {
            pos = PutCstr(span, pos, p.Key);
            pos = PutCstr(span, pos, p.Value);
        }
        span[pos++] = 0;
        writer.Advance(pos);
    }

    /// <summary>SSLRequest, or any other 8-byte code-only packet.</summary>
    public static void WriteCodePacket(IBufferWriter<byte> writer, int code)
    {
        var span = writer.GetSpan(8);
        BinaryPrimitives.WriteInt32BigEndian(span, 8);
        BinaryPrimitives.WriteInt32BigEndian(span[4..], code);
        writer.Advance(8);
    }

    public static void WriteCancelRequest(IBufferWriter<byte> writer, int processId, int secretKey)
    {
        var span = writer.GetSpan(16);
        BinaryPrimitives.WriteInt32BigEndian(span, 16);
        BinaryPrimitives.WriteInt32BigEndian(span[4..], PgStartupCodes.CancelRequest);
        BinaryPrimitives.WriteInt32BigEndian(span[8..], processId);
        BinaryPrimitives.WriteInt32BigEndian(span[12..], secretKey);
        writer.Advance(16);
    }

    /// <summary>Simple Query message.</summary>
    public static void WriteQuery(IBufferWriter<byte> writer, string sql)
    {
        var span = Begin(writer, PgFrontend.Query, 4 + Cstr(sql));
        writer.Advance(PutCstr(span, 5, sql));
    }

    /// <summary>Parse message with no parameter types.</summary>
    public static void WriteParse(IBufferWriter<byte> writer, string statementName, string sql)
    {
        var span = Begin(writer, PgFrontend.Parse, 4 + Cstr(statementName) + Cstr(sql) + 2);
        int pos = PutCstr(span, 5, statementName);
        pos = PutCstr(span, pos, sql);
        span[pos++] = 0;
        span[pos++] = 0;
        writer.Advance(pos);
    }

    /// <summary>Describe of a statement ('S') or portal ('P').</summary>
    public static void WriteDescribe(IBufferWriter<byte> writer, byte kind, ReadOnlySpan<byte> name)
    {
        var span = writer.GetSpan(7 + name.Length);
        span[0] = PgFrontend.Describe;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], 4 + 1 + name.Length + 1);
        span[5] = kind;
        name.CopyTo(span[6..]);
        span[6 + name.Length] = 0;
        writer.Advance(7 + name.Length);
    }

    public static void WriteTerminate(IBufferWriter<byte> writer)
    {
        Begin(writer, PgFrontend.Terminate, 4);
        writer.Advance(5);
    }

    private static Span<byte> Begin(IBufferWriter<byte> writer, byte type, int length)
    {
        var span = writer.GetSpan(length + 1);
        span[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], length);
        return span;
    }

    private static int Field(string value) => 1 + Cstr(value);

    private static int Cstr(string value) => Encoding.UTF8.GetByteCount(value) + 1;

    private static int PutField(Span<byte> span, int pos, byte code, string value)
    {
        span[pos] = code;
        return PutCstr(span, pos + 1, value);
    }

    private static int PutCstr(Span<byte> span, int pos, string value)
    {
        // A NUL inside a value would end the field early; the gateway's own texts never contain one.
        pos += Encoding.UTF8.GetBytes(value.Replace('\0', ' '), span[pos..]);
        span[pos] = 0;
        return pos + 1;
    }
}

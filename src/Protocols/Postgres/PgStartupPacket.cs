using System.Buffers;

namespace Appliance.Protocols.Postgres;

/// <summary>An untyped first packet: length word, request code, body.</summary>
public readonly struct PgStartupPacket(int length, int code, ReadOnlySequence<byte> body)
{
    public int Length { get; } = length;

    /// <summary>Protocol version (major &lt;&lt; 16 | minor) or a special request code.</summary>
    public int Code { get; } = code;

    /// <summary>The bytes after the code.</summary>
    public ReadOnlySequence<byte> Body { get; } = body;

    public bool IsSslRequest => Code == PgStartupCodes.SslRequest;
    public bool IsGssEncRequest => Code == PgStartupCodes.GssEncRequest;
    public bool IsCancelRequest => Code == PgStartupCodes.CancelRequest;
    public int ProtocolMajor => Code >> 16;
    public int ProtocolMinor => Code & 0xFFFF;
}

public static class PgStartupCodes
{
    public const int Protocol30 = 3 << 16;
    public const int CancelRequest = 80877102;
    public const int SslRequest = 80877103;
    public const int GssEncRequest = 80877104;
}

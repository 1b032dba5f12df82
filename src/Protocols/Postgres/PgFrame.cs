using System.Buffers;

namespace Appliance.Protocols.Postgres;

/// <summary>One typed protocol message: type byte, length word, payload. Points into the caller's buffer.</summary>
public readonly struct PgFrame(byte type, int length, ReadOnlySequence<byte> payload)
{
    /// <summary>The message type byte (see <see cref="PgFrontend"/> and <see cref="PgBackend"/>).</summary>
    public byte Type { get; } = type;

    /// <summary>The length word as sent: payload plus the four bytes of the word itself.</summary>
    public int Length { get; } = length;

    /// <summary>The bytes after the length word.</summary>
    public ReadOnlySequence<byte> Payload { get; } = payload;

    /// <summary>Bytes the whole message occupies on the wire.</summary>
    public int WireLength => Length + 1;
}

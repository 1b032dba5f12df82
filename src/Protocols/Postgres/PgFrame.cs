using System.Buffers;

namespace Appliance.Protocols.Postgres;

/// <summary>One typed protocol message: type byte, length word, payload. Points into the caller's buffer.</summary>
public readonly struct PgFrame
{
    private readonly ReadOnlySequence<byte> _payload;
    private readonly ReadOnlyMemory<byte> _contiguous;
    private readonly bool _isContiguous;

    public PgFrame(byte type, int length, ReadOnlySequence<byte> payload)
    {
        Type = type;
        Length = length;
        _payload = payload;
    }

    /// <summary>A message whose payload lies in one piece of memory (a relay's read buffer): nothing is sliced until asked for.</summary>
    public PgFrame(byte type, int length, ReadOnlyMemory<byte> payload)
    {
        Type = type;
        Length = length;
        _contiguous = payload;
        _isContiguous = true;
    }

    /// <summary>The message type byte (see <see cref="PgFrontend"/> and <see cref="PgBackend"/>).</summary>
    public byte Type { get; }

    /// <summary>The length word as sent: payload plus the four bytes of the word itself.</summary>
    public int Length { get; }

    /// <summary>The bytes after the length word.</summary>
    public ReadOnlySequence<byte> Payload => _isContiguous ? new ReadOnlySequence<byte>(_contiguous) : _payload;

    /// <summary>The payload as one span, when it is in one piece (false: read <see cref="Payload"/>).</summary>
    public bool TryGetPayloadSpan(out ReadOnlySpan<byte> payload)
    {
        if (_isContiguous)
        {
            payload = _contiguous.Span;
            return true;
        }
        if (_payload.IsSingleSegment)
        {
            payload = _payload.FirstSpan;
            return true;
        }
        payload = default;
        return false;
    }

    /// <summary>Bytes the whole message occupies on the wire.</summary>
    public int WireLength => Length + 1;
}

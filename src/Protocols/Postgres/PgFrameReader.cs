using System.Buffers;
using System.Buffers.Binary;

namespace Appliance.Protocols.Postgres;

/// <summary>Reads typed messages (everything after startup) from a byte sequence.</summary>
public static class PgFrameReader
{
    public const int HeaderLength = 5;

    /// <summary>
    /// Reads one whole message. On <see cref="OperationStatus.Done"/> the reader is advanced past it;
    /// otherwise it is left alone. <see cref="OperationStatus.InvalidData"/> means the length word is
    /// below 4 or above <paramref name="maxLength"/>; <paramref name="frame"/> then carries type and length.
    /// </summary>
    public static OperationStatus TryRead(ref SequenceReader<byte> reader, int maxLength, out PgFrame frame)
    {
        var status = TryReadHeader(ref reader, maxLength, out byte type, out int length);
        if (status != OperationStatus.Done)
        {
            frame = new PgFrame(type, length, ReadOnlySequence<byte>.Empty);
            return status;
        }
        if (reader.Remaining - HeaderLength < length - 4)
        {
            frame = default;
            return OperationStatus.NeedMoreData;
        }
        var payload = reader.UnreadSequence.Slice(HeaderLength, length - 4);
        reader.Advance(HeaderLength + length - 4);
        frame = new PgFrame(type, length, payload);
        return OperationStatus.Done;
    }

    /// <summary>
    /// Peeks at the five header bytes without advancing. Used to stream a long message through
    /// without holding all of it.
    /// </summary>
    public static OperationStatus TryReadHeader(ref SequenceReader<byte> reader, int maxLength, out byte type, out int length)
    {
        var span = reader.UnreadSpan;
        if (span.Length >= HeaderLength)
        {
            type = span[0];
            length = BinaryPrimitives.ReadInt32BigEndian(span[1..]);
        }
        else
        {
            // The header straddles segments.
            Span<byte> header = stackalloc byte[HeaderLength];
            if (!reader.TryCopyTo(header))
            {
                type = 0;
                length = 0;
                return OperationStatus.NeedMoreData;
            }
            type = header[0];
            length = BinaryPrimitives.ReadInt32BigEndian(header[1..]);
        }
        return length < 4 || length > maxLength ? OperationStatus.InvalidData : OperationStatus.Done;
    }
}

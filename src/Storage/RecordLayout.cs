using System.Buffers.Binary;

namespace Appliance.Storage;

/// <summary>
/// A record inside a block's uncompressed payload, little-endian:
/// <c>u32 payload length | u8 type | 3 reserved (0) | 16 session id | u64 sequence | i64 timestamp (Unix µs) | payload</c>.
/// </summary>
internal static class RecordLayout
{
    public const int HeaderSize = 40;

    public static void WriteHeader(Span<byte> destination, in RecordHeader header, int payloadLength)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, payloadLength);
        destination[4] = header.Type;
        destination[5] = 0;
        destination[6] = 0;
        destination[7] = 0;
        header.SessionId.TryWriteBytes(destination.Slice(8, 16));
        BinaryPrimitives.WriteUInt64LittleEndian(destination[24..], header.Sequence);
        BinaryPrimitives.WriteInt64LittleEndian(destination[32..], header.Timestamp);
    }

    public static Guid ReadSessionId(ReadOnlySpan<byte> record) => new(record.Slice(8, 16));

    public static long ReadTimestamp(ReadOnlySpan<byte> record) => BinaryPrimitives.ReadInt64LittleEndian(record[32..]);

    /// <summary>Reads the record at <paramref name="position"/>; false when the bytes there are not a whole record.</summary>
    public static bool TryRead(ReadOnlySpan<byte> raw, ref int position, out RecordHeader header, out int payloadOffset, out int payloadLength)
    {
        header = default;
        payloadOffset = 0;
        payloadLength = 0;
        var rest = raw[position..];
        if (rest.Length < HeaderSize)
        {
            return false;
        }
        var length = BinaryPrimitives.ReadInt32LittleEndian(rest);
        if (length < 0 || length > rest.Length - HeaderSize || rest[5] != 0 || rest[6] != 0 || rest[7] != 0)
        {
            return false;
        }
        header = new RecordHeader(rest[4], ReadSessionId(rest), BinaryPrimitives.ReadUInt64LittleEndian(rest[24..]), ReadTimestamp(rest));
        payloadOffset = position + HeaderSize;
        payloadLength = length;
        position += HeaderSize + length;
        return true;
    }
}

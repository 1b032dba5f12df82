using System.Buffers.Binary;

namespace Appliance.Storage;

/// <summary>Why retention deleted a segment.</summary>
public enum DeletionReason : byte
{
    MaxAge = 1,
    MaxTotalBytes = 2,
}

/// <summary>
/// The payload of a <see cref="StoreRecordTypes.SegmentDeleted"/> record: what a deleted segment held and the hash of
/// its last block, so the chain still verifies from the first segment that remains.
/// Layout: <c>u8 version (1) | u8 reason | u64 segment | u64 first block | u64 last block | 32 last hash |
/// u64 records | i64 first timestamp | i64 last timestamp | u64 bytes</c>.
/// </summary>
public sealed record SegmentDeletion(
    long SegmentNumber,
    long FirstBlockNumber,
    long LastBlockNumber,
    byte[] LastHash,
    long RecordCount,
    long FirstTimestamp,
    long LastTimestamp,
    long Bytes,
    DeletionReason Reason)
{
    public const int EncodedSize = 2 + 8 * 3 + 32 + 8 * 4;

    public void Write(Span<byte> destination)
    {
        destination[0] = 1;
        destination[1] = (byte)Reason;
        BinaryPrimitives.WriteInt64LittleEndian(destination[2..], SegmentNumber);
        BinaryPrimitives.WriteInt64LittleEndian(destination[10..], FirstBlockNumber);
        BinaryPrimitives.WriteInt64LittleEndian(destination[18..], LastBlockNumber);
        LastHash.CopyTo(destination[26..]);
        BinaryPrimitives.WriteInt64LittleEndian(destination[58..], RecordCount);
        BinaryPrimitives.WriteInt64LittleEndian(destination[66..], FirstTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(destination[74..], LastTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(destination[82..], Bytes);
    }

    /// <summary>Parses a payload; null when it is not a deletion record this version understands.</summary>
    public static SegmentDeletion? TryRead(ReadOnlySpan<byte> payload)
    {
        if (payload.Length != EncodedSize || payload[0] != 1)
        {
            return null;
        }
        return new SegmentDeletion(
            BinaryPrimitives.ReadInt64LittleEndian(payload[2..]),
            BinaryPrimitives.ReadInt64LittleEndian(payload[10..]),
            BinaryPrimitives.ReadInt64LittleEndian(payload[18..]),
            payload.Slice(26, 32).ToArray(),
            BinaryPrimitives.ReadInt64LittleEndian(payload[58..]),
            BinaryPrimitives.ReadInt64LittleEndian(payload[66..]),
            BinaryPrimitives.ReadInt64LittleEndian(payload[74..]),
            BinaryPrimitives.ReadInt64LittleEndian(payload[82..]),
            (DeletionReason)payload[1]);
    }
}

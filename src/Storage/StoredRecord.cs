namespace Appliance.Storage;

/// <summary>A record read back from the store. <see cref="Payload"/> is valid until the cursor moves on.</summary>
public readonly struct StoredRecord
{
    public StoredRecord(in RecordHeader header, ReadOnlyMemory<byte> payload, long segmentNumber, long blockNumber)
    {
        Header = header;
        Payload = payload;
        SegmentNumber = segmentNumber;
        BlockNumber = blockNumber;
    }

    public RecordHeader Header { get; }

    public ReadOnlyMemory<byte> Payload { get; }

    public long SegmentNumber { get; }

    public long BlockNumber { get; }

    public byte Type => Header.Type;

    public Guid SessionId => Header.SessionId;

    public ulong Sequence => Header.Sequence;

    /// <summary>The record's timestamp as an instant.</summary>
    public DateTimeOffset Time => StoreTime.FromUnixMicroseconds(Header.Timestamp);
}

namespace Appliance.Storage;

/// <summary>The fixed header in front of every block; see <see cref="BlockFrame"/> for the layout.</summary>
internal readonly struct BlockHeader
{
    public BlockHeader(BlockCodec codec, int storedLength, int rawLength, int recordCount, uint payloadCrc,
        long blockNumber, long firstTimestamp, long lastTimestamp)
    {
        Codec = codec;
        StoredLength = storedLength;
        RawLength = rawLength;
        RecordCount = recordCount;
        PayloadCrc = payloadCrc;
        BlockNumber = blockNumber;
        FirstTimestamp = firstTimestamp;
        LastTimestamp = lastTimestamp;
    }

    public BlockCodec Codec { get; }

    /// <summary>Bytes of payload following the header, as stored (compressed).</summary>
    public int StoredLength { get; }

    /// <summary>Bytes of payload once decompressed.</summary>
    public int RawLength { get; }

    public int RecordCount { get; }

    public uint PayloadCrc { get; }

    /// <summary>The block's number in the whole store: 0 for the first block ever written, then one more per block.</summary>
    public long BlockNumber { get; }

    /// <summary>Smallest record timestamp in the block (Unix µs).</summary>
    public long FirstTimestamp { get; }

    /// <summary>Largest record timestamp in the block (Unix µs).</summary>
    public long LastTimestamp { get; }

    public int FrameLength => BlockFrame.HeaderSize + StoredLength;
}

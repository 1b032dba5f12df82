using K4os.Compression.LZ4;

namespace Appliance.Storage;

/// <summary>
/// Collects records into one block's raw payload, then seals it into a frame: LZ4, CRC32C, the previous block's
/// hash, and this block's own hash. Buffers are allocated once; sealing allocates nothing.
/// </summary>
internal sealed class BlockBuilder
{
    private readonly byte[] _raw;
    private readonly byte[] _frame;
    private readonly LZ4Level _level;
    private int _rawLength;
    private int _count;
    private long _firstTimestamp = long.MaxValue;
    private long _lastTimestamp = long.MinValue;

    /// <param name="targetBytes">Raw size at which the writer seals a block.</param>
    /// <param name="maxRecordBytes">Largest record payload; a block always has room for one.</param>
    public BlockBuilder(int targetBytes, int maxRecordBytes, LZ4Level level)
    {
        Capacity = Math.Max(targetBytes, RecordLayout.HeaderSize + maxRecordBytes);
        TargetBytes = targetBytes;
        _raw = GC.AllocateUninitializedArray<byte>(Capacity);
        _frame = GC.AllocateUninitializedArray<byte>(BlockFrame.HeaderSize + BlockFrame.MaxStoredLength(Capacity));
        _level = level;
    }

    /// <summary>Largest raw payload a block may have.</summary>
    public int Capacity { get; }

    public int TargetBytes { get; }

    public int RecordCount => _count;

    public int RawLength => _rawLength;

    public bool IsEmpty => _count == 0;

    /// <summary>The raw payload collected so far (records back to back).</summary>
    public ReadOnlySpan<byte> Raw => _raw.AsSpan(0, _rawLength);

    /// <summary>Adds one encoded record (header and payload); false when it does not fit.</summary>
    public bool TryAdd(ReadOnlySpan<byte> record)
    {
        if (record.Length > Capacity - _rawLength)
        {
            return false;
        }
        record.CopyTo(_raw.AsSpan(_rawLength));
        _rawLength += record.Length;
        _count++;
        var timestamp = RecordLayout.ReadTimestamp(record);
        if (timestamp < _firstTimestamp)
        {
            _firstTimestamp = timestamp;
        }
        if (timestamp > _lastTimestamp)
        {
            _lastTimestamp = timestamp;
        }
        return true;
    }

    /// <summary>
    /// Compresses and frames the collected records as block <paramref name="blockNumber"/>; writes its hash into
    /// <paramref name="hash"/>. The frame is valid until <see cref="Reset"/>.
    /// </summary>
    public ReadOnlySpan<byte> Seal(long blockNumber, ReadOnlySpan<byte> previousHash, Span<byte> hash, out BlockHeader header)
    {
        var payloadArea = _frame.AsSpan(BlockFrame.HeaderSize);
        var stored = LZ4Codec.Encode(Raw, payloadArea, _level);
        var codec = BlockCodec.Lz4;
        if (stored <= 0 || stored >= _rawLength)
        {
            Raw.CopyTo(payloadArea);
            stored = _rawLength;
            codec = BlockCodec.Stored;
        }
        var payload = payloadArea[..stored];
        header = new BlockHeader(codec, stored, _rawLength, _count, Crc32C.Compute(payload), blockNumber, _firstTimestamp, _lastTimestamp);
        var frame = _frame.AsSpan(0, header.FrameLength);
        BlockFrame.WriteHeader(frame, header, previousHash);
        BlockFrame.Hash(frame, hash);
        return frame;
    }

    public void Reset()
    {
        _rawLength = 0;
        _count = 0;
        _firstTimestamp = long.MaxValue;
        _lastTimestamp = long.MinValue;
    }
}

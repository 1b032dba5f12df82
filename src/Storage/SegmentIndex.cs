using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Appliance.Storage;

/// <summary>
/// What one segment holds: its blocks (offset, record count, time span) and, per session, the blocks with its
/// records, so a session is read without scanning every block. Built while writing or by scanning; saved as the
/// segment's <c>.idx</c> file. Derived data: not part of the hash chain; rebuilt when missing or unreadable.
/// </summary>
internal sealed class SegmentIndex : IDisposable
{
    private static ReadOnlySpan<byte> MagicBytes => "APLIDX01"u8;
    private const int FixedSize = 72;
    private const int BlockEntrySize = 32;

    private readonly Dictionary<Guid, SessionBlocks> _sessions = [];
    private readonly List<SessionBlocks> _sessionOrder = [];
    private SessionBlocks? _lastSession;

    public SegmentIndex(long segmentNumber, long firstBlockNumber)
    {
        SegmentNumber = segmentNumber;
        FirstBlockNumber = firstBlockNumber;
        CoveredLength = SegmentHeader.Size;
    }

    public long SegmentNumber { get; }
    public long FirstBlockNumber { get; }

    /// <summary>Bytes of the segment file this index describes (header and whole blocks).</summary>
    public long CoveredLength { get; set; }

    public PooledList<BlockEntry> Blocks { get; } = new();

    /// <summary>SHA-256 of the last block covered (zeros when there is none).</summary>
    public byte[] LastHash { get; } = new byte[BlockFrame.HashSize];

    public long RecordCount { get; private set; }

    /// <summary>Sessions in the order their first record appears.</summary>
    public IReadOnlyList<SessionBlocks> Sessions => _sessionOrder;

    public long LastBlockNumber => FirstBlockNumber + Blocks.Count - 1;

    public long FirstTimestamp
    {
        get
        {
            var min = long.MaxValue;
            foreach (var b in Blocks)
            {
                min = Math.Min(min, b.FirstTimestamp);
            }
            return Blocks.Count == 0 ? 0 : min;
        }
    }

    public long LastTimestamp
    {
        get
        {
            var max = long.MinValue;
            foreach (var b in Blocks)
            {
                max = Math.Max(max, b.LastTimestamp);
            }
            return Blocks.Count == 0 ? 0 : max;
        }
    }

    public SessionBlocks? Find(Guid sessionId) => _sessions.GetValueOrDefault(sessionId);

    /// <summary>Adds a block written at <paramref name="offset"/>, indexing the records of its raw payload.</summary>
    public void AddBlock(long offset, in BlockHeader header, ReadOnlySpan<byte> hash, ReadOnlySpan<byte> raw)
    {
        var ordinal = Blocks.Count;
        Blocks.Add(new BlockEntry(offset, header.FrameLength, header.RecordCount, header.FirstTimestamp, header.LastTimestamp));
        hash.CopyTo(LastHash);
        CoveredLength = offset + header.FrameLength;
        RecordCount += header.RecordCount;
        var position = 0;
        while (position < raw.Length && RecordLayout.TryRead(raw, ref position, out var record, out _, out _))
        {
            if (StoreRecordTypes.IsStoreRecord(record.Type))
            {
                continue;
            }
            var session = _lastSession is { } last && last.SessionId == record.SessionId ? last : Session(record.SessionId);
            _lastSession = session;
            session.RecordCount++;
            session.FirstTimestamp = Math.Min(session.FirstTimestamp, record.Timestamp);
            session.LastTimestamp = Math.Max(session.LastTimestamp, record.Timestamp);
            if (session.BlockOrdinals.Count == 0 || session.BlockOrdinals[session.BlockOrdinals.Count - 1] != ordinal)
            {
                session.BlockOrdinals.Add(ordinal);
            }
        }
    }

    private SessionBlocks Session(Guid id)
    {
        ref var slot = ref CollectionsMarshal.GetValueRefOrAddDefault(_sessions, id, out var exists);
        if (!exists)
        {
            slot = new SessionBlocks(id);
            _sessionOrder.Add(slot);
        }
        return slot!;
    }

    /// <summary>Hands the index's arrays back to the pool; the index is unusable afterwards.</summary>
    public void Dispose()
    {
        Blocks.Dispose();
        foreach (var session in _sessionOrder)
        {
            session.BlockOrdinals.Dispose();
        }
        _sessions.Clear();
        _sessionOrder.Clear();
        _lastSession = null;
    }

    /// <summary>The <c>.idx</c> file's bytes; see <see cref="TryParse"/> for the layout.</summary>
    public byte[] Serialize()
    {
        var bytes = new byte[SerializedSize];
        Serialize(bytes);
        return bytes;
    }

    /// <summary>Bytes <see cref="Serialize(Span{byte})"/> writes.</summary>
    public int SerializedSize
    {
        get
        {
            var size = FixedSize + Blocks.Count * BlockEntrySize + 4;
            foreach (var s in _sessionOrder)
            {
                size += 40 + 4 * s.BlockOrdinals.Count;
            }
            return size;
        }
    }

    /// <summary>Writes the <c>.idx</c> bytes into <paramref name="span"/> (at least <see cref="SerializedSize"/> long).</summary>
    public void Serialize(Span<byte> span)
    {
        MagicBytes.CopyTo(span);
        BinaryPrimitives.WriteInt64LittleEndian(span[8..], SegmentNumber);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], CoveredLength);
        BinaryPrimitives.WriteInt64LittleEndian(span[24..], FirstBlockNumber);
        BinaryPrimitives.WriteInt32LittleEndian(span[32..], Blocks.Count);
        BinaryPrimitives.WriteInt32LittleEndian(span[36..], _sessionOrder.Count);
        LastHash.CopyTo(span[40..]);
        var p = FixedSize;
        foreach (var b in Blocks)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[p..], b.Offset);
            BinaryPrimitives.WriteInt32LittleEndian(span[(p + 8)..], b.FrameLength);
            BinaryPrimitives.WriteInt32LittleEndian(span[(p + 12)..], b.RecordCount);
            BinaryPrimitives.WriteInt64LittleEndian(span[(p + 16)..], b.FirstTimestamp);
            BinaryPrimitives.WriteInt64LittleEndian(span[(p + 24)..], b.LastTimestamp);
            p += BlockEntrySize;
        }
        foreach (var s in _sessionOrder)
        {
            s.SessionId.TryWriteBytes(span[p..]);
            BinaryPrimitives.WriteInt64LittleEndian(span[(p + 16)..], s.FirstTimestamp);
            BinaryPrimitives.WriteInt64LittleEndian(span[(p + 24)..], s.LastTimestamp);
            BinaryPrimitives.WriteInt32LittleEndian(span[(p + 32)..], s.RecordCount);
            BinaryPrimitives.WriteInt32LittleEndian(span[(p + 36)..], s.BlockOrdinals.Count);
            p += 40;
            foreach (var ordinal in s.BlockOrdinals)
            {
                BinaryPrimitives.WriteInt32LittleEndian(span[p..], ordinal);
                p += 4;
            }
        }
        BinaryPrimitives.WriteUInt32LittleEndian(span[p..], Crc32C.Compute(span[..p]));
    }

    /// <summary>
    /// Parses an <c>.idx</c> file: <c>"APLIDX01" | u64 segment | u64 covered length | u64 first block | u32 blocks |
    /// u32 sessions | 32 last hash | blocks (u64 offset, u32 frame length, u32 records, i64 first ts, i64 last ts) |
    /// sessions (16 id, i64 first ts, i64 last ts, u32 records, u32 n, u32 ordinals[n]) | u32 CRC32C</c>.
    /// Null when anything is off; the caller then rebuilds the index from the segment.
    /// </summary>
    public static SegmentIndex? TryParse(ReadOnlySpan<byte> bytes, long expectedSegment)
    {
        if (bytes.Length < FixedSize + 4 || !bytes[..8].SequenceEqual(MagicBytes)
            || BinaryPrimitives.ReadUInt32LittleEndian(bytes[^4..]) != Crc32C.Compute(bytes[..^4]))
        {
            return null;
        }
        var segment = BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]);
        var blockCount = BinaryPrimitives.ReadInt32LittleEndian(bytes[32..]);
        var sessionCount = BinaryPrimitives.ReadInt32LittleEndian(bytes[36..]);
        if (segment != expectedSegment || blockCount < 0 || sessionCount < 0
            || (long)blockCount * BlockEntrySize > bytes.Length - FixedSize - 4)
        {
            return null;
        }
        var index = new SegmentIndex(segment, BinaryPrimitives.ReadInt64LittleEndian(bytes[24..]))
        {
            CoveredLength = BinaryPrimitives.ReadInt64LittleEndian(bytes[16..]),
        };
        bytes.Slice(40, 32).CopyTo(index.LastHash);
        var p = FixedSize;
        for (var i = 0; i < blockCount; i++)
        {
            var b = new BlockEntry(BinaryPrimitives.ReadInt64LittleEndian(bytes[p..]), BinaryPrimitives.ReadInt32LittleEndian(bytes[(p + 8)..]),
                BinaryPrimitives.ReadInt32LittleEndian(bytes[(p + 12)..]), BinaryPrimitives.ReadInt64LittleEndian(bytes[(p + 16)..]),
                BinaryPrimitives.ReadInt64LittleEndian(bytes[(p + 24)..]));
            index.Blocks.Add(b);
            index.RecordCount += b.RecordCount;
            p += BlockEntrySize;
        }
        var end = bytes.Length - 4;
        for (var i = 0; i < sessionCount; i++)
        {
            if (end - p < 40)
            {
                return null;
            }
            var session = index.Session(new Guid(bytes.Slice(p, 16)));
            session.FirstTimestamp = BinaryPrimitives.ReadInt64LittleEndian(bytes[(p + 16)..]);
            session.LastTimestamp = BinaryPrimitives.ReadInt64LittleEndian(bytes[(p + 24)..]);
            session.RecordCount = BinaryPrimitives.ReadInt32LittleEndian(bytes[(p + 32)..]);
            var n = BinaryPrimitives.ReadInt32LittleEndian(bytes[(p + 36)..]);
            p += 40;
            if (n < 0 || (long)n * 4 > end - p)
            {
                return null;
            }
            for (var k = 0; k < n; k++)
            {
                var ordinal = BinaryPrimitives.ReadInt32LittleEndian(bytes[p..]);
                if (ordinal < 0 || ordinal >= blockCount)
                {
                    return null;
                }
                session.BlockOrdinals.Add(ordinal);
                p += 4;
            }
        }
        return p == end ? index : null;
    }

    /// <summary>Loads <paramref name="path"/>; null when it is missing or unreadable.</summary>
    public static SegmentIndex? TryLoad(string path, long expectedSegment)
    {
        try
        {
            return File.Exists(path) ? TryParse(File.ReadAllBytes(path), expectedSegment) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Writes the <c>.idx</c> file atomically (temporary file, fsync, rename).</summary>
    public void Save(string path)
    {
        var temporary = path + ".tmp";
        var size = SerializedSize;
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            Serialize(buffer);
            using var file = File.OpenHandle(temporary, FileMode.Create, FileAccess.Write, FileShare.None);
            RandomAccess.Write(file, buffer.AsSpan(0, size), 0);
            RandomAccess.FlushToDisk(file);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        File.Move(temporary, path, overwrite: true);
    }
}

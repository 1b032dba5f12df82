using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Appliance.Storage;

/// <summary>
/// Reads a segment file frame by frame, checking each header and payload checksum, and decompresses blocks.
/// Opened with sharing so it can read while the writer appends (the unfinished tail reads as <see cref="FrameStatus.Torn"/>).
/// </summary>
internal sealed class SegmentScanner : IDisposable
{
    private readonly SafeFileHandle _file;
    private readonly int _maxRawLength;
    private byte[] _frame;
    private byte[] _raw;
    private int _frameLength;

    private SegmentScanner(string path, SafeFileHandle file, int maxRawLength)
    {
        Path = path;
        _file = file;
        _maxRawLength = maxRawLength;
        Length = RandomAccess.GetLength(file);
        _frame = ArrayPool<byte>.Shared.Rent(BlockFrame.HeaderSize + 64 * 1024);
        _raw = ArrayPool<byte>.Shared.Rent(64 * 1024);
        Span<byte> header = stackalloc byte[SegmentHeader.Size];
        var read = RandomAccess.Read(file, header, 0);
        HeaderProblem = SegmentHeader.TryRead(header[..read], out var parsed);
        Header = parsed;
        Offset = SegmentHeader.Size;
    }

    public string Path { get; }

    /// <summary>File length when opened.</summary>
    public long Length { get; }

    /// <summary>Null when the segment header is valid.</summary>
    public string? HeaderProblem { get; }

    public SegmentHeader Header { get; }

    /// <summary>Where the next frame starts (after <see cref="ReadNext"/> returned a block: where that block ended).</summary>
    public long Offset { get; private set; }

    /// <summary>Offset of the frame last read.</summary>
    public long FrameOffset { get; private set; }

    /// <summary>The last block read: its header.</summary>
    public BlockHeader Block { get; private set; }

    /// <summary>The records decoded by the last <see cref="Decode"/> (valid until the next call).</summary>
    public ReadOnlyMemory<byte> RawMemory => _raw.AsMemory(0, Block.RawLength);

    /// <summary>The last block read, header and payload, as on disk.</summary>
    public ReadOnlySpan<byte> Frame => _frame.AsSpan(0, _frameLength);

    /// <summary>What was wrong with the frame when <see cref="ReadNext"/> returned Torn or Damaged.</summary>
    public string? Problem { get; private set; }

    public static SegmentScanner Open(string path, int maxRawLength)
    {
        var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        try
        {
            return new SegmentScanner(path, file, maxRawLength);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Reads the frame at <see cref="Offset"/> and, for a block, moves past it.</summary>
    public FrameStatus ReadNext()
    {
        FrameOffset = Offset;
        Problem = null;
        _frameLength = 0;
        var remaining = Length - Offset;
        if (remaining == 0)
        {
            return FrameStatus.End;
        }
        if (remaining < BlockFrame.HeaderSize)
        {
            Problem = $"the file ends {remaining} bytes into a block header";
            return FrameStatus.Torn;
        }
        Span<byte> headerBytes = _frame.AsSpan(0, BlockFrame.HeaderSize);
        RandomAccess.Read(_file, headerBytes, Offset);
        Problem = BlockFrame.TryReadHeader(headerBytes, _maxRawLength, out var header);
        if (Problem is not null)
        {
            return ZerosFrom(Offset + BlockFrame.HeaderSize) ? FrameStatus.Torn : FrameStatus.Damaged;
        }
        if (header.FrameLength > remaining)
        {
            Problem = $"the file ends {remaining} bytes into a block of {header.FrameLength} bytes";
            return FrameStatus.Torn;
        }
        if (_frame.Length < header.FrameLength)
        {
            var bigger = ArrayPool<byte>.Shared.Rent(header.FrameLength);
            _frame.AsSpan(0, BlockFrame.HeaderSize).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(_frame);
            _frame = bigger;
        }
        var payload = _frame.AsSpan(BlockFrame.HeaderSize, header.StoredLength);
        RandomAccess.Read(_file, payload, Offset + BlockFrame.HeaderSize);
        if (Crc32C.Compute(payload) != header.PayloadCrc)
        {
            Problem = "block payload checksum mismatch";
            return LooksUnwritten(payload, Offset + BlockFrame.HeaderSize) && ZerosFrom(Offset + header.FrameLength)
                ? FrameStatus.Torn
                : FrameStatus.Damaged;
        }
        Block = header;
        _frameLength = header.FrameLength;
        Offset += header.FrameLength;
        return FrameStatus.Block;
    }

    /// <summary>Reads the block at <paramref name="offset"/> (from an index) as <see cref="ReadNext"/> would.</summary>
    public FrameStatus ReadAt(long offset)
    {
        Offset = offset;
        return ReadNext();
    }

    /// <summary>
    /// Decompresses the last block read and checks that its records fill it exactly; null when they do,
    /// else what is wrong. <paramref name="raw"/> stays valid until the next call.
    /// </summary>
    public string? Decode(out ReadOnlySpan<byte> raw)
    {
        raw = default;
        var header = Block;
        if (_raw.Length < header.RawLength)
        {
            ArrayPool<byte>.Shared.Return(_raw);
            _raw = ArrayPool<byte>.Shared.Rent(header.RawLength);
        }
        var payload = _frame.AsSpan(BlockFrame.HeaderSize, header.StoredLength);
        var destination = _raw.AsSpan(0, header.RawLength);
        if (header.Codec == BlockCodec.Stored)
        {
            payload.CopyTo(destination);
        }
        else if (K4os.Compression.LZ4.LZ4Codec.Decode(payload, destination) != header.RawLength)
        {
            return "block payload does not decompress to its recorded length";
        }
        var position = 0;
        var count = 0;
        while (position < destination.Length)
        {
            if (!RecordLayout.TryRead(destination, ref position, out var record, out _, out _) || record.Type == 0)
            {
                return $"record {count} of the block is malformed";
            }
            count++;
        }
        if (count != header.RecordCount)
        {
            return $"block holds {count} records, its header says {header.RecordCount}";
        }
        raw = destination;
        return null;
    }

    // A complete frame that fails its payload checksum is torn only when part of it was never written: it ends in a
    // run of zeros or holds a whole zero 512-byte sector. Neither happens to LZ4 output (or to incompressible data,
    // the only data stored uncompressed), so a bit flip in an acknowledged block is reported as damage, not truncated.
    private static bool LooksUnwritten(ReadOnlySpan<byte> payload, long fileOffset)
    {
        const int TrailingZeros = 64;
        const int Sector = 512;
        if (payload.Length >= TrailingZeros && !payload[^TrailingZeros..].ContainsAnyExcept((byte)0))
        {
            return true;
        }
        var first = (int)((Sector - fileOffset % Sector) % Sector);
        for (var at = first; at + Sector <= payload.Length; at += Sector)
        {
            if (!payload.Slice(at, Sector).ContainsAnyExcept((byte)0))
            {
                return true;
            }
        }
        return false;
    }

    // True when nothing but zero bytes lie between `from` and the end of the file: a write the filesystem extended
    // the file for but never filled in, which is how an unsynced append looks after a crash.
    private bool ZerosFrom(long from)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            for (var at = from; at < Length;)
            {
                var n = RandomAccess.Read(_file, buffer.AsSpan(0, (int)Math.Min(buffer.Length, Length - at)), at);
                if (n <= 0)
                {
                    break;
                }
                if (buffer.AsSpan(0, n).ContainsAnyExcept((byte)0))
                {
                    return false;
                }
                at += n;
            }
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose()
    {
        if (_file.IsClosed)
        {
            return;
        }
        _file.Dispose();
        ArrayPool<byte>.Shared.Return(_frame);
        ArrayPool<byte>.Shared.Return(_raw);
    }
}

using System.Buffers.Binary;

namespace Appliance.Storage;

/// <summary>
/// The 64-byte header at the start of every segment file, little-endian:
/// <code>
///  0  8    magic "APLSEG01"
///  8  u64  segment number (1, 2, …; also the file name)
/// 16  u64  number of the first block in this segment
/// 24  i64  created (Unix µs)
/// 32  28   reserved (0)
/// 60  u32  CRC32C of bytes 0..60
/// </code>
/// Blocks follow back to back. The header is not part of the hash chain; verify checks it against the file
/// name and the first block instead.
/// </summary>
internal readonly record struct SegmentHeader(long SegmentNumber, long FirstBlockNumber, long Created)
{
    public const int Size = 64;
    private static ReadOnlySpan<byte> MagicBytes => "APLSEG01"u8;

    public void Write(Span<byte> destination)
    {
        destination[..Size].Clear();
        MagicBytes.CopyTo(destination);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], SegmentNumber);
        BinaryPrimitives.WriteInt64LittleEndian(destination[16..], FirstBlockNumber);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], Created);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[60..], Crc32C.Compute(destination[..60]));
    }

    /// <summary>Null when <paramref name="bytes"/> hold a valid header, else what is wrong.</summary>
    public static string? TryRead(ReadOnlySpan<byte> bytes, out SegmentHeader header)
    {
        header = default;
        if (bytes.Length < Size)
        {
            return "incomplete segment header";
        }
        if (!bytes[..8].SequenceEqual(MagicBytes))
        {
            return "not a segment file (bad magic)";
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[60..]) != Crc32C.Compute(bytes[..60]))
        {
            return "segment header checksum mismatch";
        }
        header = new SegmentHeader(BinaryPrimitives.ReadInt64LittleEndian(bytes[8..]),
            BinaryPrimitives.ReadInt64LittleEndian(bytes[16..]), BinaryPrimitives.ReadInt64LittleEndian(bytes[24..]));
        return null;
    }
}

using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Appliance.Storage;

/// <summary>
/// The on-disk frame of one block, little-endian. Header (88 bytes):
/// <code>
///  0  u32  magic "APBK"
///  4  u8   format version (1)
///  5  u8   codec (0 stored, 1 LZ4)
///  6  u16  flags (0)
///  8  u32  stored payload length (bytes after the header)
/// 12  u32  raw payload length (decompressed)
/// 16  u32  record count
/// 20  u32  CRC32C of the stored payload
/// 24  u64  block number (0 for the first block of the store, +1 per block, across segments)
/// 32  i64  first record timestamp (Unix µs, smallest in the block)
/// 40  i64  last record timestamp (Unix µs, largest in the block)
/// 48  32   SHA-256 of the previous block's whole frame (zeros for block 0)
/// 80  u32  reserved (0)
/// 84  u32  CRC32C of header bytes 0..84
/// 88  ...  payload: records (<see cref="RecordLayout"/>), LZ4-compressed unless codec is 0
/// </code>
/// The block's own hash is the SHA-256 of the whole frame, header and payload; the next block carries it.
/// The header has its own CRC so that a damaged length is recognised as damage, never trusted to find the
/// end of the block (recovery tells a torn tail from a damaged block by it).
/// </summary>
internal static class BlockFrame
{
    public const int HeaderSize = 88;
    public const uint Magic = 0x4B425041; // "APBK"
    public const byte Version = 1;
    public const int HashSize = 32;
    private const int PreviousHashOffset = 48;
    private const int HeaderCrcOffset = 84;

    /// <summary>Writes the header for a payload already in place after it.</summary>
    public static void WriteHeader(Span<byte> frame, in BlockHeader header, ReadOnlySpan<byte> previousHash)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(frame, Magic);
        frame[4] = Version;
        frame[5] = (byte)header.Codec;
        BinaryPrimitives.WriteUInt16LittleEndian(frame[6..], 0);
        BinaryPrimitives.WriteInt32LittleEndian(frame[8..], header.StoredLength);
        BinaryPrimitives.WriteInt32LittleEndian(frame[12..], header.RawLength);
        BinaryPrimitives.WriteInt32LittleEndian(frame[16..], header.RecordCount);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[20..], header.PayloadCrc);
        BinaryPrimitives.WriteInt64LittleEndian(frame[24..], header.BlockNumber);
        BinaryPrimitives.WriteInt64LittleEndian(frame[32..], header.FirstTimestamp);
        BinaryPrimitives.WriteInt64LittleEndian(frame[40..], header.LastTimestamp);
        previousHash.CopyTo(frame.Slice(PreviousHashOffset, HashSize));
        BinaryPrimitives.WriteUInt32LittleEndian(frame[80..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[HeaderCrcOffset..], Crc32C.Compute(frame[..HeaderCrcOffset]));
    }

    /// <summary>The previous block's hash as this header records it.</summary>
    public static ReadOnlySpan<byte> PreviousHash(ReadOnlySpan<byte> header) => header.Slice(PreviousHashOffset, HashSize);

    /// <summary>
    /// Parses and checks a header: magic, version, header CRC and sane lengths (at most <paramref name="maxRawLength"/>).
    /// Returns null when it is valid, else what is wrong.
    /// </summary>
    public static string? TryReadHeader(ReadOnlySpan<byte> bytes, int maxRawLength, out BlockHeader header)
    {
        header = default;
        if (bytes.Length < HeaderSize)
        {
            return "incomplete block header";
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic)
        {
            return "not a block header (bad magic)";
        }
        if (BinaryPrimitives.ReadUInt32LittleEndian(bytes[HeaderCrcOffset..]) != Crc32C.Compute(bytes[..HeaderCrcOffset]))
        {
            return "block header checksum mismatch";
        }
        if (bytes[4] != Version)
        {
            return $"unsupported block format version {bytes[4]}";
        }
        var codec = (BlockCodec)bytes[5];
        if (codec is not (BlockCodec.Stored or BlockCodec.Lz4) || BinaryPrimitives.ReadUInt16LittleEndian(bytes[6..]) != 0)
        {
            return $"unknown block codec {bytes[5]}";
        }
        var stored = BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]);
        var raw = BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
        var count = BinaryPrimitives.ReadInt32LittleEndian(bytes[16..]);
        if (raw < 0 || raw > maxRawLength || stored < 0 || stored > MaxStoredLength(maxRawLength)
            || (codec == BlockCodec.Stored && stored != raw) || count < 0 || count > raw / RecordLayout.HeaderSize)
        {
            return "block header lengths out of range";
        }
        header = new BlockHeader(codec, stored, raw, count, BinaryPrimitives.ReadUInt32LittleEndian(bytes[20..]),
            BinaryPrimitives.ReadInt64LittleEndian(bytes[24..]), BinaryPrimitives.ReadInt64LittleEndian(bytes[32..]),
            BinaryPrimitives.ReadInt64LittleEndian(bytes[40..]));
        return null;
    }

    /// <summary>Largest stored payload a block of at most <paramref name="maxRawLength"/> raw bytes may have.</summary>
    public static int MaxStoredLength(int maxRawLength) => K4os.Compression.LZ4.LZ4Codec.MaximumOutputSize(maxRawLength);

    /// <summary>The SHA-256 of a whole frame: what the next block must carry as its previous hash.</summary>
    public static void Hash(ReadOnlySpan<byte> frame, Span<byte> destination) => SHA256.HashData(frame, destination);
}

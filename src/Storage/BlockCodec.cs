namespace Appliance.Storage;

/// <summary>How a block's payload is stored.</summary>
public enum BlockCodec : byte
{
    /// <summary>Uncompressed (used when LZ4 would not make the block smaller).</summary>
    Stored = 0,

    /// <summary>One LZ4 block (K4os <c>LZ4Codec</c>).</summary>
    Lz4 = 1,
}

namespace Appliance.Storage;

/// <summary>What <see cref="SegmentScanner.ReadNext"/> found at the current offset.</summary>
internal enum FrameStatus
{
    /// <summary>A whole block whose header and payload checksums hold.</summary>
    Block,

    /// <summary>The file ends exactly here.</summary>
    End,

    /// <summary>
    /// An unfinished write: the file ends inside the frame; or the header fails its checks and only zeros follow
    /// it; or a complete frame fails its payload checksum, only zeros follow it, and part of it reads as never
    /// written (it ends in 64 zero bytes or holds a whole zero 512-byte sector). Recovery truncates it in the last
    /// segment. Anything else that fails is <see cref="Damaged"/>: a bit flip in the last acknowledged block is
    /// reported, not truncated.
    /// </summary>
    Torn,

    /// <summary>A frame that fails its checks with data after it: damage, never truncated.</summary>
    Damaged,
}

namespace Appliance.Storage;

/// <summary>What <see cref="SegmentScanner.ReadNext"/> found at the current offset.</summary>
internal enum FrameStatus
{
    /// <summary>A whole block whose header and payload checksums hold.</summary>
    Block,

    /// <summary>The file ends exactly here.</summary>
    End,

    /// <summary>
    /// An unfinished write: the file ends inside the frame, or what follows is a frame that fails its checks and
    /// has nothing but zeros after it. Recovery truncates it in the last segment.
    /// </summary>
    Torn,

    /// <summary>A frame that fails its checks with data after it: damage, never truncated.</summary>
    Damaged,
}

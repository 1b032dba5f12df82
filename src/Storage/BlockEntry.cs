namespace Appliance.Storage;

/// <summary>Where one block is in its segment, and what it holds.</summary>
internal readonly record struct BlockEntry(long Offset, int FrameLength, int RecordCount, long FirstTimestamp, long LastTimestamp);

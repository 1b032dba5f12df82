namespace Appliance.Storage;

/// <summary>What a <see cref="StoreEvent"/> reports.</summary>
public enum StoreEventKind
{
    Opened,
    TornTailTruncated,
    ChainBroken,
    IndexRebuilt,
    SegmentSealed,
    SegmentDeleted,
    WriterFaulted,
    Closed,
}

namespace Appliance.Storage;

/// <summary>What <see cref="SegmentStore.Open"/> found and did.</summary>
/// <param name="Segments">Segment files present after recovery.</param>
/// <param name="NextBlockNumber">Number the next block will get.</param>
/// <param name="TruncatedBytes">Bytes of torn tail removed (0 when the tail was clean).</param>
/// <param name="Problems">Damage or chain breaks found (reported, never repaired); empty when none.</param>
/// <param name="IndexesRebuilt">Segment indexes that were missing or stale and were rebuilt.</param>
public sealed record RecoveryReport(int Segments, long NextBlockNumber, long TruncatedBytes, IReadOnlyList<StoreEvent> Problems, int IndexesRebuilt)
{
    public static RecoveryReport Empty { get; } = new(0, 0, 0, [], 0);
}

namespace Appliance.Storage;

/// <summary>One session's records within one segment: the blocks that hold them and their time span.</summary>
internal sealed class SessionBlocks(Guid sessionId)
{
    public Guid SessionId { get; } = sessionId;
    public long FirstTimestamp { get; set; } = long.MaxValue;
    public long LastTimestamp { get; set; } = long.MinValue;
    public int RecordCount { get; set; }

    /// <summary>Ordinals (positions in <see cref="SegmentIndex.Blocks"/>) of the blocks holding the session's records, ascending.</summary>
    public PooledList<int> BlockOrdinals { get; } = new();
}

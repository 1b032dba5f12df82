namespace Appliance.Storage;

/// <summary>What the writer keeps about a sealed segment (for retention): its extent and the hash of its last block.</summary>
internal sealed record SegmentSummary(
    long Number, string Path, long Length, long FirstBlockNumber, int BlockCount, byte[] LastHash,
    long RecordCount, long FirstTimestamp, long LastTimestamp)
{
    public long LastBlockNumber => FirstBlockNumber + BlockCount - 1;

    public static SegmentSummary From(SegmentIndex index, string path, long length) =>
        new(index.SegmentNumber, path, length, index.FirstBlockNumber, index.Blocks.Count, (byte[])index.LastHash.Clone(),
            index.RecordCount, index.FirstTimestamp, index.LastTimestamp);
}

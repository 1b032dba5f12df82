namespace Appliance.Storage;

/// <summary>
/// When the writer calls fsync, and therefore what an <em>acknowledged</em> record (see
/// <see cref="SegmentStore.WaitForAcknowledgementAsync"/>) survives. In every policy a record that was only
/// enqueued (<see cref="SegmentStore.TryAppend"/> returned <see cref="AppendStatus.Appended"/>) is in memory and
/// is lost if the process dies before its block is written; sealed segments are always fsynced before a new
/// segment starts, and close fsyncs everything.
/// </summary>
public enum FsyncPolicy
{
    /// <summary>
    /// Each block is fsynced as soon as it is written, before the next block is formed. Acknowledged means on
    /// stable storage: it survives a process crash, a kernel crash and a power loss. Records that arrive during
    /// one fsync form the next block (group commit), so the fsync rate is bounded by the disk, not by records.
    /// </summary>
    Always,

    /// <summary>
    /// The writer writes every block it can form from what is queued and then issues one fsync for all of them
    /// (and at least once per 16 blocks under a continuous stream). Acknowledged means on stable storage, as for
    /// <see cref="Always"/>; acknowledgement comes a little later, with fewer fsyncs under load.
    /// </summary>
    Batch,

    /// <summary>
    /// Blocks are written as they fill or the queue empties, and fsynced at most every
    /// <see cref="StoreOptions.FsyncInterval"/> (and when a segment is sealed, on flush and on close).
    /// Acknowledged means handed to the operating system (write returned): it survives a crash of the process
    /// (including SIGKILL) but a kernel crash or power loss may lose up to the last interval.
    /// </summary>
    Interval,
}

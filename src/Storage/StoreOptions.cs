namespace Appliance.Storage;

/// <summary>How a <see cref="SegmentStore"/> writes.</summary>
public sealed class StoreOptions
{
    /// <summary>Hard ceiling for <see cref="MaxRecordBytes"/> and <see cref="BlockBytes"/>.</summary>
    public const int MaxBlockBytesLimit = 16 * 1024 * 1024;

    /// <summary>The directory holding the segment files (created if missing).</summary>
    public required string Directory { get; init; }

    /// <summary>A segment is sealed and a new one started before it would grow past this (a single block may exceed it).</summary>
    public int SegmentMaxBytes { get; init; } = 64 * 1024 * 1024;

    /// <summary>Raw (uncompressed) bytes at which the writer seals a block; it also seals when the queue runs dry.</summary>
    public int BlockBytes { get; init; } = 64 * 1024;

    /// <summary>Largest record payload accepted.</summary>
    public int MaxRecordBytes { get; init; } = 1024 * 1024;

    /// <summary>Size of the in-memory queue between producers and the writer, in bytes (rounded up to a power of two).</summary>
    public int QueueBytes { get; init; } = 8 * 1024 * 1024;

    /// <summary>
    /// How long a block with records may wait for more before the writer seals it when the queue runs dry. Bigger
    /// blocks compress better and cost fewer writes; during the wait producers wake nobody (no syscall per record).
    /// Anyone waiting for an acknowledgement or a flush, and closing, cut it short. Zero seals at once.
    /// Each sealed block costs a write and (batch, always) an fsync of fixed cost: at 2 ms the writer thread took
    /// 2.9-4.8 µs per recorded pgbench -S transaction on the 2-core VM, at 10 ms 0.3-2.3 µs (load/README.md).
    /// </summary>
    public TimeSpan BlockLinger { get; init; } = TimeSpan.FromMilliseconds(10);

    public FsyncPolicy Fsync { get; init; } = FsyncPolicy.Batch;

    /// <summary>For <see cref="FsyncPolicy.Interval"/>: the longest time written blocks stay unsynced.</summary>
    public TimeSpan FsyncInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Sealed segments whose newest record is older than this are deleted.</summary>
    public TimeSpan? RetentionMaxAge { get; init; }

    /// <summary>The oldest sealed segments are deleted while the store is larger than this.</summary>
    public long? RetentionMaxTotalBytes { get; init; }

    /// <summary>How often the writer applies retention (also at open and after each sealed segment).</summary>
    public TimeSpan RetentionCheckInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Receives what the store has to report (recovery, broken chain, deletions, faults). Called on the writer thread or in Open.</summary>
    public Action<StoreEvent>? Events { get; init; }

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>Tests: called on the writer thread after each fsync with the file and the length it made durable.</summary>
    internal Action<string, long>? SyncObserver { get; init; }

    /// <summary>Throws for settings the store cannot work with.</summary>
    public void Validate()
    {
        ArgumentException.ThrowIfNullOrEmpty(Directory);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxRecordBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxRecordBytes, MaxBlockBytesLimit);
        ArgumentOutOfRangeException.ThrowIfLessThan(BlockBytes, 1024);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(BlockBytes, MaxBlockBytesLimit);
        ArgumentOutOfRangeException.ThrowIfLessThan(SegmentMaxBytes, 1024);
        if (QueueBytes < 2 * (RecordLayout.HeaderSize + MaxRecordBytes + 16) || QueueBytes > 1 << 30)
        {
            throw new ArgumentOutOfRangeException(nameof(QueueBytes), QueueBytes,
                $"the queue must hold at least two of the largest records ({2 * (RecordLayout.HeaderSize + MaxRecordBytes + 16)} bytes) and at most 1 GiB");
        }
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(FsyncInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(BlockLinger, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(RetentionCheckInterval, TimeSpan.Zero);
        if (RetentionMaxAge is { } age)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(age, TimeSpan.Zero, nameof(RetentionMaxAge));
        }
        if (RetentionMaxTotalBytes is { } total)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(total, 1, nameof(RetentionMaxTotalBytes));
        }
    }
}

using Microsoft.Win32.SafeHandles;

namespace Appliance.Storage;

// The writer thread: drains the queue into blocks, writes them, fsyncs per policy, rolls segments, applies retention.
public sealed partial class SegmentStore
{
    // Under a continuous stream the batch policy still fsyncs at least this often.
    private const int BatchSyncEveryBlocks = 16;

    private readonly BlockBuilder _builder;
    private readonly byte[] _lastHash = new byte[BlockFrame.HashSize];
    private readonly byte[] _blockHash = new byte[BlockFrame.HashSize];
    private readonly List<SegmentSummary> _sealed = [];
    private readonly List<TaskCompletionSource> _retentionWaiters = [];
    private SafeFileHandle? _segmentFile;
    private string _segmentPath = "";
    private long _segmentLength;
    private SegmentIndex? _active;
    private long _nextSegmentNumber = 1;
    private long _nextBlockNumber;
    private bool _rollBeforeNextBlock;
    private long _pendingEnd;   // queue address just after the last record in the builder
    private long _blockOpened;  // timestamp of the builder's first record
    private long _written;      // queue address up to which blocks are written
    private int _unsyncedBlocks;
    private long _lastSync;
    private long _lastRetention;
    private long _recordsWritten;
    private long _blocksWritten;
    private long _bytesWritten;
    private long _rawBytesWritten;
    private long _syncs;
    private long _writerPasses;

    /// <summary>Tests: times the writer went round its loop (each wake-up, linger or drain).</summary>
    internal long WriterPasses => Volatile.Read(ref _writerPasses);

    private void WriterLoop()
    {
        try
        {
            ApplyRetention();
            while (true)
            {
                _writerPasses++;
                var drained = Drain();
                if (!_builder.IsEmpty && !_ring.HasPublished && SealDue())
                {
                    WriteBlock();
                }
                SyncPerPolicy();
                if (Volatile.Read(ref _retentionRequested) != 0 || RetentionDue())
                {
                    Interlocked.Exchange(ref _retentionRequested, 0);
                    ApplyRetention();
                    CompleteRetentionWaiters();
                }
                if (drained > 0)
                {
                    continue;
                }
                if (Volatile.Read(ref _state) != StateOpen)
                {
                    // No claim can succeed after Close; once everything claimed is read, nothing more will come.
                    var finalTail = _ring.Close();
                    if (_ring.ReadPosition == finalTail)
                    {
                        break;
                    }
                    Thread.Yield(); // a producer is between its claim and its publish
                    continue;
                }
                if (!_builder.IsEmpty)
                {
                    Linger();
                    continue;
                }
                Sleep();
            }
            if (!_builder.IsEmpty)
            {
                WriteBlock();
            }
            Sync(force: true);
            SaveActiveIndex();
            Interlocked.Exchange(ref _state, StateClosed);
            Report(StoreEventKind.Closed, StoreEventSeverity.Information, $"store closed at block {_nextBlockNumber}", _segmentPath);
        }
        catch (Exception e)
        {
            Volatile.Write(ref _fault, e);
            Interlocked.Exchange(ref _state, StateFaulted);
            _ring.Close();
            Report(StoreEventKind.WriterFaulted, StoreEventSeverity.Critical,
                $"the segment store writer failed; records are no longer written: {e.Message}", _segmentPath, _segmentLength);
            _waiters.Fail(new IOException("the segment store writer failed: " + e.Message, e));
        }
        finally
        {
            WakeSpaceWaiters(force: true);
            CompleteRetentionWaiters();
            _stopped.TrySetResult();
        }
    }

    /// <summary>Moves published records from the queue into blocks; writes each block that fills. Returns records moved.</summary>
    private int Drain()
    {
        var moved = 0;
        while (_ring.TryRead(out var record))
        {
            if (_builder.IsEmpty)
            {
                _blockOpened = _options.Time.GetTimestamp();
            }
            if (!_builder.TryAdd(record))
            {
                WriteBlock();
                _builder.TryAdd(record);
            }
            _pendingEnd = _ring.ReadPosition;
            moved++;
            if (_builder.RawLength >= _builder.TargetBytes)
            {
                WriteBlock();
            }
            // Hand space back in quarters of the queue: often enough for producers, rarely enough to stay cheap.
            if (_ring.Unreleased >= _ring.Capacity / 4)
            {
                _ring.Release();
                WakeSpaceWaiters();
            }
        }
        if (moved > 0)
        {
            _ring.Release();
            WakeSpaceWaiters();
        }
        if (_builder.IsEmpty)
        {
            // Padding entries read after the last record still count as consumed.
            _pendingEnd = _ring.ReadPosition;
            if (_written < _pendingEnd)
            {
                _written = _pendingEnd;
                PublishAddresses();
            }
        }
        return moved;
    }

    private void WriteBlock()
    {
        var frame = _builder.Seal(_nextBlockNumber, _lastHash, _blockHash, out var header);
        if (_segmentFile is null || _rollBeforeNextBlock
            || (_segmentLength + frame.Length > _options.SegmentMaxBytes && _active!.Blocks.Count > 0))
        {
            Roll();
        }
        RandomAccess.Write(_segmentFile!, frame, _segmentLength);
        _active!.AddBlock(_segmentLength, header, _blockHash, _builder.Raw);
        _segmentLength += frame.Length;
        _blockHash.CopyTo(_lastHash, 0);
        _nextBlockNumber++;
        _recordsWritten += header.RecordCount;
        _blocksWritten++;
        _bytesWritten += frame.Length;
        _rawBytesWritten += header.RawLength;
        _builder.Reset();
        _written = _pendingEnd;
        _unsyncedBlocks++;
        if (_options.Fsync == FsyncPolicy.Always)
        {
            Sync(force: true);
        }
        else
        {
            PublishAddresses();
        }
    }

    private void SyncPerPolicy()
    {
        if (_unsyncedBlocks == 0)
        {
            // Progress past padding alone needs no fsync.
            if (_written > _durable)
            {
                Volatile.Write(ref _durable, _written);
                PublishAddresses();
            }
            return;
        }
        var flushWanted = Volatile.Read(ref _flushTarget) > _durable;
        switch (_options.Fsync)
        {
            case FsyncPolicy.Batch when !_ring.HasPublished || _unsyncedBlocks >= BatchSyncEveryBlocks || flushWanted:
            case FsyncPolicy.Interval when flushWanted || _options.Time.GetElapsedTime(_lastSync) >= _options.FsyncInterval:
            case FsyncPolicy.Always:
                Sync(force: true);
                break;
        }
    }

    private void Sync(bool force)
    {
        if (_segmentFile is null || (!force && _unsyncedBlocks == 0))
        {
            return;
        }
        if (_unsyncedBlocks > 0)
        {
            RandomAccess.FlushToDisk(_segmentFile);
            _syncs++;
            _options.SyncObserver?.Invoke(_segmentPath, _segmentLength);
        }
        _unsyncedBlocks = 0;
        _lastSync = _options.Time.GetTimestamp();
        Volatile.Write(ref _durable, _written);
        PublishAddresses();
    }

    private void PublishAddresses()
    {
        var acknowledged = _options.Fsync == FsyncPolicy.Interval ? _written : _durable;
        Volatile.Write(ref _acknowledged, acknowledged);
        Interlocked.MemoryBarrier();
        _waiters.Complete(acknowledged, _durable);
    }

    /// <summary>Seals the current segment (fsync, index file) and starts the next one.</summary>
    private void Roll()
    {
        if (_segmentFile is not null)
        {
            Sync(force: true);
            SaveActiveIndex();
            _sealed.Add(SegmentSummary.From(_active!, _segmentPath, _segmentLength));
            _segmentFile.Dispose();
            _segmentFile = null;
            Report(StoreEventKind.SegmentSealed, StoreEventSeverity.Information,
                $"segment {_active!.SegmentNumber} sealed: {_active.Blocks.Count} blocks, {_active.RecordCount} records, {_segmentLength} bytes", _segmentPath);
            _active.Dispose();
        }
        var number = _nextSegmentNumber++;
        _segmentPath = SegmentFiles.SegmentPath(_options.Directory, number);
        _segmentFile = File.OpenHandle(_segmentPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        Span<byte> header = stackalloc byte[SegmentHeader.Size];
        new SegmentHeader(number, _nextBlockNumber, StoreTime.ToUnixMicroseconds(_options.Time.GetUtcNow())).Write(header);
        RandomAccess.Write(_segmentFile, header, 0);
        _segmentLength = SegmentHeader.Size;
        _active = new SegmentIndex(number, _nextBlockNumber);
        _rollBeforeNextBlock = false;
        if (DirectorySync.Flush(_options.Directory) is { } problem)
        {
            Report(StoreEventKind.SegmentSealed, StoreEventSeverity.Warning, problem);
        }
        if (_sealed.Count > 0)
        {
            Interlocked.Exchange(ref _retentionRequested, 1);
        }
    }

    private void SaveActiveIndex()
    {
        if (_active is null || _segmentFile is null)
        {
            return;
        }
        try
        {
            _active.Save(SegmentFiles.IndexPath(_options.Directory, _active.SegmentNumber));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The index is derived data: readers rebuild it by scanning. Worth a warning, not a failure.
            Report(StoreEventKind.IndexRebuilt, StoreEventSeverity.Warning, $"cannot save the segment index: {e.Message}", _segmentPath);
        }
    }

    /// <summary>True when the partly filled block should be written now rather than wait for more records.</summary>
    private bool SealDue() =>
        _options.BlockLinger == TimeSpan.Zero
        || Volatile.Read(ref _state) != StateOpen
        || _waiters.HasWaiters
        || Volatile.Read(ref _flushTarget) > _written
        || Volatile.Read(ref _retentionRequested) != 0
        || _options.Time.GetElapsedTime(_blockOpened) >= _options.BlockLinger;

    /// <summary>
    /// Waits out the rest of the block's linger. Not announced as sleeping, so producers do not wake the writer
    /// (no syscall on their path); a flush, an acknowledgement waiter or closing does.
    /// </summary>
    private void Linger()
    {
        var remaining = _options.BlockLinger - _options.Time.GetElapsedTime(_blockOpened);
        if (remaining <= TimeSpan.Zero)
        {
            return;
        }
        _writerWake.Reset();
        if (SealDue())
        {
            return;
        }
        _writerWake.Wait(WholeMilliseconds(remaining));
    }

    private void Sleep()
    {
        var timeout = Timeout.InfiniteTimeSpan;
        if (_unsyncedBlocks > 0 && _options.Fsync == FsyncPolicy.Interval)
        {
            timeout = Max(TimeSpan.Zero, _options.FsyncInterval - _options.Time.GetElapsedTime(_lastSync));
        }
        if (RetentionConfigured)
        {
            var untilRetention = Max(TimeSpan.Zero, _options.RetentionCheckInterval - _options.Time.GetElapsedTime(_lastRetention));
            timeout = timeout == Timeout.InfiniteTimeSpan ? untilRetention : Min(timeout, untilRetention);
        }
        _writerWake.Reset();
        Interlocked.Exchange(ref _writerSleeping, 1);
        // Look again after announcing the sleep: a producer that published before it saw no sleeper to wake.
        if (_ring.HasPublished || Volatile.Read(ref _state) != StateOpen || Volatile.Read(ref _retentionRequested) != 0
            || Volatile.Read(ref _flushTarget) > _durable)
        {
            Interlocked.Exchange(ref _writerSleeping, 0);
            return;
        }
        _writerWake.Wait(WholeMilliseconds(timeout));
        Interlocked.Exchange(ref _writerSleeping, 0);
    }

    private void CompleteRetentionWaiters()
    {
        lock (_retentionWaiters)
        {
            foreach (var waiter in _retentionWaiters)
            {
                waiter.TrySetResult();
            }
            _retentionWaiters.Clear();
        }
    }

    // Waits count whole milliseconds. Rounded down (as Wait(TimeSpan) does), the last fraction of a linger or an
    // interval became waits of 0 ms: a spin on the clock, a quarter of a recording gateway's CPU under pgbench -S.
    private static int WholeMilliseconds(TimeSpan wait) =>
        wait == Timeout.InfiniteTimeSpan ? Timeout.Infinite : (int)Math.Min(int.MaxValue, Math.Ceiling(wait.TotalMilliseconds));

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}

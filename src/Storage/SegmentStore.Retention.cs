namespace Appliance.Storage;

// Retention: whole sealed segments, oldest first; each deletion is first recorded in the chain.
public sealed partial class SegmentStore
{
    private readonly List<(SegmentSummary Segment, DeletionReason Reason)> _doomed = [];

    private bool RetentionConfigured => _options.RetentionMaxAge is not null || _options.RetentionMaxTotalBytes is not null;

    private bool RetentionDue() =>
        RetentionConfigured && _options.Time.GetElapsedTime(_lastRetention) >= _options.RetentionCheckInterval;

    /// <summary>
    /// Deletes the oldest sealed segments that are older than the age limit or that push the store past the size
    /// limit. Never the active segment, and only a prefix of the segments, so the chain stays one piece. Before a
    /// file is removed, a <see cref="StoreRecordTypes.SegmentDeleted"/> record with its last block's hash is
    /// written and fsynced, so verify can start the chain at the first remaining segment.
    /// </summary>
    private void ApplyRetention()
    {
        _lastRetention = _options.Time.GetTimestamp();
        if (!RetentionConfigured || _sealed.Count == 0)
        {
            return;
        }
        var now = _options.Time.GetUtcNow();
        var total = _segmentLength;
        foreach (var s in _sealed)
        {
            total += s.Length;
        }
        var doomed = _doomed;
        doomed.Clear();
        foreach (var s in _sealed)
        {
            DeletionReason reason;
            if (_options.RetentionMaxAge is { } maxAge && (s.BlockCount == 0 || StoreTime.FromUnixMicroseconds(s.LastTimestamp) < now - maxAge))
            {
                reason = DeletionReason.MaxAge;
            }
            else if (_options.RetentionMaxTotalBytes is { } maxTotal && total > maxTotal)
            {
                reason = DeletionReason.MaxTotalBytes;
            }
            else
            {
                break;
            }
            doomed.Add((s, reason));
            total -= s.Length;
        }
        if (doomed.Count == 0)
        {
            return;
        }

        Span<byte> record = stackalloc byte[RecordLayout.HeaderSize + SegmentDeletion.EncodedSize];
        var timestamp = StoreTime.ToUnixMicroseconds(now);
        foreach (var (s, reason) in doomed)
        {
            var deletion = new SegmentDeletion(s.Number, s.FirstBlockNumber, s.LastBlockNumber, s.LastHash, s.RecordCount,
                s.FirstTimestamp, s.LastTimestamp, s.Length, reason);
            RecordLayout.WriteHeader(record, new RecordHeader(StoreRecordTypes.SegmentDeleted, Guid.Empty, (ulong)s.Number, timestamp),
                SegmentDeletion.EncodedSize);
            deletion.Write(record[RecordLayout.HeaderSize..]);
            if (!_builder.TryAdd(record))
            {
                WriteBlock();
                _builder.TryAdd(record);
            }
        }
        WriteBlock();
        Sync(force: true);

        foreach (var (s, reason) in doomed)
        {
            File.Delete(s.Path);
            File.Delete(SegmentFiles.IndexPath(_options.Directory, s.Number));
            Report(StoreEventKind.SegmentDeleted, StoreEventSeverity.Information,
                $"retention ({(reason == DeletionReason.MaxAge ? "max_age" : "max_total_bytes")}) deleted segment {s.Number}: "
                + $"blocks {s.FirstBlockNumber}-{s.LastBlockNumber}, {s.RecordCount} records, {s.Length} bytes", s.Path);
        }
        _sealed.RemoveRange(0, doomed.Count);
        if (DirectorySync.Flush(_options.Directory) is { } problem)
        {
            Report(StoreEventKind.SegmentDeleted, StoreEventSeverity.Warning, problem);
        }
    }
}

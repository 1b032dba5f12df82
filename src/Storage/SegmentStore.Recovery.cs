namespace Appliance.Storage;

// Open-time recovery: indexes for sealed segments, then the last segment scanned block by block.
public sealed partial class SegmentStore
{
    private void Recover()
    {
        var directory = _options.Directory;
        foreach (var stale in Directory.EnumerateFiles(directory, "*" + SegmentFiles.IndexExtension + ".tmp"))
        {
            File.Delete(stale);
        }
        var numbers = SegmentFiles.List(directory);
        var problems = new List<StoreEvent>();
        var rebuilt = 0;
        long truncated = 0;
        SegmentIndex? previous = null;

        for (var i = 0; i < numbers.Count - 1; i++)
        {
            var number = numbers[i];
            var path = SegmentFiles.SegmentPath(directory, number);
            if (i > 0 && numbers[i - 1] != number - 1)
            {
                problems.Add(Problem(StoreEventKind.ChainBroken,
                    $"segment {numbers[i - 1] + 1} is missing: the hash chain is broken (run 'appliance store verify')", path, 0));
            }
            var length = new FileInfo(path).Length;
            var index = SegmentIndex.TryLoad(SegmentFiles.IndexPath(directory, number), number);
            if (index is null || index.CoveredLength != length)
            {
                index = ScanSealed(path, number, problems);
                rebuilt++;
                Report(StoreEventKind.IndexRebuilt, StoreEventSeverity.Information, $"rebuilt the index of segment {number}", path);
            }
            _sealed.Add(SegmentSummary.From(index, path, length));
            previous = index;
        }

        if (numbers.Count > 0)
        {
            var number = numbers[^1];
            if (numbers.Count > 1 && numbers[^2] != number - 1)
            {
                problems.Add(Problem(StoreEventKind.ChainBroken,
                    $"segment {numbers[^2] + 1} is missing: the hash chain is broken (run 'appliance store verify')",
                    SegmentFiles.SegmentPath(directory, number), 0));
            }
            truncated = RecoverLast(number, previous, problems);
            rebuilt++;
        }

        foreach (var problem in problems)
        {
            _options.Events?.Invoke(problem);
        }
        Recovery = new RecoveryReport(SegmentFiles.List(directory).Count, _nextBlockNumber, truncated, problems, rebuilt);
        _lastSync = _options.Time.GetTimestamp();
        _lastRetention = _options.Time.GetTimestamp();
        Report(StoreEventKind.Opened, problems.Count > 0 ? StoreEventSeverity.Error : StoreEventSeverity.Information,
            $"store opened: {Recovery.Segments} segments, next block {_nextBlockNumber}"
            + (truncated > 0 ? $", {truncated} bytes of torn tail truncated" : "")
            + (problems.Count > 0 ? $", {problems.Count} problems (reported, not repaired)" : ""), _segmentPath);
    }

    /// <summary>Scans the last segment: truncates a torn tail, reports damage, and positions the writer after the last block.</summary>
    private long RecoverLast(long number, SegmentIndex? previous, List<StoreEvent> problems)
    {
        var directory = _options.Directory;
        var path = SegmentFiles.SegmentPath(directory, number);
        _nextSegmentNumber = number + 1;
        if (previous is not null)
        {
            _nextBlockNumber = previous.LastBlockNumber + 1;
            previous.LastHash.CopyTo(_lastHash, 0);
        }

        SegmentIndex index;
        long truncateAt = -1;
        long originalLength;
        using (var scanner = SegmentScanner.Open(path, StoreReader.MaxRawLength))
        {
            originalLength = scanner.Length;
            if (scanner.HeaderProblem is { } headerProblem)
            {
                if (scanner.Length <= SegmentHeader.Size || AllZeros(path, 0))
                {
                    // Created but never written: it holds no block, so removing it loses nothing.
                    scanner.Dispose();
                    File.Delete(path);
                    _nextSegmentNumber = number;
                    Report(StoreEventKind.TornTailTruncated, StoreEventSeverity.Warning,
                        $"segment {number} was created but its header never completed; removed it ({originalLength} bytes)", path, 0);
                    return originalLength;
                }
                problems.Add(Problem(StoreEventKind.ChainBroken, $"segment {number}: {headerProblem}; left as it is, writing continues in a new segment", path, 0));
                _rollBeforeNextBlock = true;
                return 0;
            }
            var header = scanner.Header;
            if (header.SegmentNumber != number)
            {
                problems.Add(Problem(StoreEventKind.ChainBroken,
                    $"segment file {number} says it is segment {header.SegmentNumber}; left as it is, writing continues in a new segment", path, 0));
                _rollBeforeNextBlock = true;
            }
            if (previous is null)
            {
                _nextBlockNumber = header.FirstBlockNumber;
            }
            else if (header.FirstBlockNumber != _nextBlockNumber)
            {
                problems.Add(Problem(StoreEventKind.ChainBroken,
                    $"segment {number} starts at block {header.FirstBlockNumber}, expected {_nextBlockNumber}", path, 0));
                _nextBlockNumber = header.FirstBlockNumber;
            }
            index = new SegmentIndex(number, header.FirstBlockNumber);
            var knownPrevious = previous is not null;
            while (true)
            {
                var status = scanner.ReadNext();
                if (status == FrameStatus.End)
                {
                    break;
                }
                if (status == FrameStatus.Torn)
                {
                    truncateAt = scanner.FrameOffset;
                    break;
                }
                ReadOnlySpan<byte> raw = default;
                var damage = status == FrameStatus.Damaged ? scanner.Problem : scanner.Decode(out raw);
                if (damage is not null)
                {
                    problems.Add(Problem(StoreEventKind.ChainBroken,
                        $"damaged block in segment {number}: {damage}; left as it is, writing continues in a new segment",
                        path, scanner.FrameOffset));
                    _rollBeforeNextBlock = true;
                    break;
                }
                var block = scanner.Block;
                if (block.BlockNumber != _nextBlockNumber)
                {
                    problems.Add(Problem(StoreEventKind.ChainBroken,
                        $"block {block.BlockNumber} where block {_nextBlockNumber} was expected", path, scanner.FrameOffset));
                }
                if (knownPrevious && !BlockFrame.PreviousHash(scanner.Frame).SequenceEqual(_lastHash))
                {
                    problems.Add(Problem(StoreEventKind.ChainBroken,
                        $"block {block.BlockNumber} does not carry the hash of block {block.BlockNumber - 1}: the hash chain is broken (reported, not repaired)",
                        path, scanner.FrameOffset));
                }
                BlockFrame.Hash(scanner.Frame, _lastHash);
                knownPrevious = true;
                index.AddBlock(scanner.FrameOffset, block, _lastHash, raw);
                _nextBlockNumber = block.BlockNumber + 1;
            }
        }

        _segmentPath = path;
        _segmentFile = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
        _active = index;
        _segmentLength = index.CoveredLength;
        long truncated = 0;
        if (truncateAt >= 0)
        {
            truncated = originalLength - truncateAt;
            RandomAccess.SetLength(_segmentFile, truncateAt);
            RandomAccess.FlushToDisk(_segmentFile);
            Report(StoreEventKind.TornTailTruncated, StoreEventSeverity.Warning,
                $"truncated a torn tail of {truncated} bytes (an unfinished, unacknowledged write)", path, truncateAt);
        }
        return truncated;
    }

    private SegmentIndex ScanSealed(string path, long number, List<StoreEvent> problems)
    {
        var (index, problem, offset) = StoreReader.ScanSegment(path, number);
        if (problem is not null)
        {
            problems.Add(Problem(StoreEventKind.ChainBroken, $"segment {number}: {problem} (reported, not repaired)", path, offset));
        }
        else
        {
            index.Save(SegmentFiles.IndexPath(_options.Directory, number));
        }
        return index;
    }

    private static bool AllZeros(string path, long from)
    {
        var bytes = File.ReadAllBytes(path);
        return from >= bytes.Length || !bytes.AsSpan((int)from).ContainsAnyExcept((byte)0);
    }

    private static StoreEvent Problem(StoreEventKind kind, string message, string path, long offset) =>
        new(kind, StoreEventSeverity.Critical, message, path, offset);
}

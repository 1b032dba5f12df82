namespace Appliance.Storage;

/// <summary>
/// Reads a store directory, also while a writer appends to it: sessions from the per-segment indexes, and records
/// in order (all, one session's, or since a time). Needs no lock; an unfinished tail is simply not read yet.
/// </summary>
public sealed class StoreReader : IDisposable
{
    /// <summary>Largest raw block a reader accepts (twice the writer's ceiling, so damage cannot make it allocate wildly).</summary>
    internal const int MaxRawLength = 2 * StoreOptions.MaxBlockBytesLimit + 1024;

    private readonly Dictionary<long, SegmentIndex> _sealedIndexes = [];
    private readonly List<string> _warnings = [];

    private StoreReader(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    /// <summary>Problems met while reading (a damaged segment whose index could not be completed); empty when none.</summary>
    public IReadOnlyList<string> Warnings => _warnings;

    /// <summary>Opens <paramref name="directory"/> for reading.</summary>
    /// <exception cref="DirectoryNotFoundException">There is no such directory.</exception>
    public static StoreReader Open(string directory)
    {
        if (!System.IO.Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"no session store at {directory}");
        }
        return new StoreReader(directory);
    }

    /// <summary>Segment numbers present now, ascending.</summary>
    public IReadOnlyList<long> SegmentNumbers() => SegmentFiles.List(Directory);

    /// <summary>Every session with records in the store, in the order their first record was written.</summary>
    public IReadOnlyList<SessionSummary> ListSessions()
    {
        var order = new List<Guid>();
        var sessions = new Dictionary<Guid, (long First, long Last, long Count, List<long> Segments)>();
        foreach (var (number, index) in Indexes())
        {
            foreach (var s in index.Sessions)
            {
                if (sessions.TryGetValue(s.SessionId, out var known))
                {
                    known.Segments.Add(number);
                    sessions[s.SessionId] = (Math.Min(known.First, s.FirstTimestamp), Math.Max(known.Last, s.LastTimestamp), known.Count + s.RecordCount, known.Segments);
                }
                else
                {
                    order.Add(s.SessionId);
                    sessions[s.SessionId] = (s.FirstTimestamp, s.LastTimestamp, s.RecordCount, [number]);
                }
            }
        }
        return order.Select(id =>
        {
            var s = sessions[id];
            return new SessionSummary(id, StoreTime.FromUnixMicroseconds(s.First), StoreTime.FromUnixMicroseconds(s.Last), s.Count, s.Segments);
        }).ToList();
    }

    /// <summary>Every record, in the order written (store records included).</summary>
    public RecordCursor ReadAll() => new(this, Blocks(static (_, _) => true), session: null, sinceTimestamp: long.MinValue);

    /// <summary>One session's records in order, reading only the blocks the indexes name.</summary>
    public RecordCursor ReadSession(Guid sessionId) => new(this, SessionBlocks(sessionId), sessionId, long.MinValue);

    /// <summary>Records with a timestamp at or after <paramref name="since"/>, in the order written; older blocks are skipped unread.</summary>
    public RecordCursor ReadSince(DateTimeOffset since)
    {
        var from = StoreTime.ToUnixMicroseconds(since);
        return new RecordCursor(this, Blocks((_, b) => b.LastTimestamp >= from), session: null, from);
    }

    public void Dispose() => _sealedIndexes.Clear();

    internal void Warn(string warning) => _warnings.Add(warning);

    private IEnumerable<(long Segment, string Path, long Offset)> Blocks(Func<SegmentIndex, BlockEntry, bool> wanted)
    {
        foreach (var (number, index) in Indexes())
        {
            var path = SegmentFiles.SegmentPath(Directory, number);
            for (var i = 0; i < index.Blocks.Count; i++)
            {
                var block = index.Blocks[i];
                if (wanted(index, block))
                {
                    yield return (number, path, block.Offset);
                }
            }
        }
    }

    private IEnumerable<(long Segment, string Path, long Offset)> SessionBlocks(Guid sessionId)
    {
        foreach (var (number, index) in Indexes())
        {
            if (index.Find(sessionId) is not { } session)
            {
                continue;
            }
            var path = SegmentFiles.SegmentPath(Directory, number);
            for (var i = 0; i < session.BlockOrdinals.Count; i++)
            {
                yield return (number, path, index.Blocks[session.BlockOrdinals[i]].Offset);
            }
        }
    }

    /// <summary>The index of every segment, loading each lazily; segments deleted meanwhile are skipped.</summary>
    private IEnumerable<(long Number, SegmentIndex Index)> Indexes()
    {
        var numbers = SegmentFiles.List(Directory);
        for (var i = 0; i < numbers.Count; i++)
        {
            var index = LoadIndex(numbers[i], sealedSegment: i < numbers.Count - 1);
            if (index is not null)
            {
                yield return (numbers[i], index);
            }
        }
    }

    private SegmentIndex? LoadIndex(long number, bool sealedSegment)
    {
        if (_sealedIndexes.TryGetValue(number, out var cached))
        {
            return cached;
        }
        var path = SegmentFiles.SegmentPath(Directory, number);
        long length;
        try
        {
            length = new FileInfo(path).Length;
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        var index = SegmentIndex.TryLoad(SegmentFiles.IndexPath(Directory, number), number);
        if (index is null || index.CoveredLength != length)
        {
            try
            {
                // A saved index of the active segment covers what was there at the last close: continue from it.
                var (scanned, problem, offset) = ScanSegment(path, number, index is not null && index.CoveredLength < length ? index : null);
                if (problem is not null && (sealedSegment || problem is not TornProblem))
                {
                    Warn($"{path} at offset {offset}: {problem}; records after it are not read (run 'appliance store verify')");
                }
                index = scanned;
            }
            catch (FileNotFoundException)
            {
                return null;
            }
        }
        if (sealedSegment)
        {
            _sealedIndexes[number] = index;
        }
        return index;
    }

    private const string TornProblem = "incomplete block at the end";

    /// <summary>
    /// Builds a segment's index by reading its blocks (continuing <paramref name="from"/> when given). Stops at
    /// the first frame that is not a whole valid block and says why (<see cref="TornProblem"/> for an unfinished tail).
    /// </summary>
    internal static (SegmentIndex Index, string? Problem, long Offset) ScanSegment(string path, long number, SegmentIndex? from = null)
    {
        using var scanner = SegmentScanner.Open(path, MaxRawLength);
        if (scanner.HeaderProblem is { } headerProblem)
        {
            return (new SegmentIndex(number, 0), headerProblem, 0);
        }
        var index = from ?? new SegmentIndex(number, scanner.Header.FirstBlockNumber);
        var at = index.CoveredLength;
        Span<byte> hash = stackalloc byte[BlockFrame.HashSize];
        while (true)
        {
            var status = scanner.ReadAt(at);
            switch (status)
            {
                case FrameStatus.End:
                    return (index, null, at);
                case FrameStatus.Torn:
                    return (index, TornProblem, at);
                case FrameStatus.Damaged:
                    return (index, scanner.Problem, at);
            }
            if (scanner.Decode(out var raw) is { } problem)
            {
                return (index, problem, at);
            }
            BlockFrame.Hash(scanner.Frame, hash);
            index.AddBlock(at, scanner.Block, hash, raw);
            at = scanner.Offset;
        }
    }
}

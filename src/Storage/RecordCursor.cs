using System.Collections;

namespace Appliance.Storage;

/// <summary>
/// Streams records block by block (one block decompressed at a time). Use with <c>foreach</c>; each record's
/// payload is valid until the next one. A damaged block throws <see cref="StoreReadException"/>.
/// </summary>
public sealed class RecordCursor : IEnumerable<StoredRecord>, IEnumerator<StoredRecord>
{
    private readonly StoreReader _reader;
    private readonly IEnumerator<(long Segment, string Path, long Offset)> _blocks;
    private readonly Guid? _session;
    private readonly long _since;
    private SegmentScanner? _scanner;
    private string? _scannerPath;
    private long _segment;
    private ReadOnlyMemory<byte> _raw;
    private int _position;

    internal RecordCursor(StoreReader reader, IEnumerable<(long, string, long)> blocks, Guid? session, long sinceTimestamp)
    {
        _reader = reader;
        _blocks = blocks.GetEnumerator();
        _session = session;
        _since = sinceTimestamp;
    }

    public StoredRecord Current { get; private set; }

    object IEnumerator.Current => Current;

    public bool MoveNext()
    {
        while (true)
        {
            var raw = _raw.Span;
            while (_position < raw.Length)
            {
                if (!RecordLayout.TryRead(raw, ref _position, out var header, out var offset, out var length))
                {
                    break; // Decode checked the records; cannot happen
                }
                if ((_session is { } id && header.SessionId != id) || header.Timestamp < _since)
                {
                    continue;
                }
                Current = new StoredRecord(header, _raw.Slice(offset, length), _segment, _scanner!.Block.BlockNumber);
                return true;
            }
            _raw = default;
            _position = 0;
            if (!_blocks.MoveNext())
            {
                return false;
            }
            var (segment, path, blockOffset) = _blocks.Current;
            if (_scannerPath != path)
            {
                _scanner?.Dispose();
                _scanner = null;
                try
                {
                    _scanner = SegmentScanner.Open(path, StoreReader.MaxRawLength);
                }
                catch (FileNotFoundException)
                {
                    _reader.Warn($"{path} was deleted (retention) while being read");
                    continue;
                }
                _scannerPath = path;
                _segment = segment;
            }
            var status = _scanner!.ReadAt(blockOffset);
            var problem = status == FrameStatus.Block ? _scanner.Decode(out _) : _scanner.Problem ?? status.ToString();
            if (problem is not null)
            {
                throw new StoreReadException(problem, path, blockOffset);
            }
            _raw = _scanner.RawMemory;
        }
    }

    public IEnumerator<StoredRecord> GetEnumerator() => this;

    IEnumerator IEnumerable.GetEnumerator() => this;

    public void Reset() => throw new NotSupportedException();

    public void Dispose()
    {
        _scanner?.Dispose();
        _scanner = null;
        _blocks.Dispose();
    }
}

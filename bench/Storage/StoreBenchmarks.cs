using BenchmarkDotNet.Attributes;
using Appliance.Storage;

namespace Appliance.Bench.Storage;

/// <summary>
/// Appending through the whole pipeline: the producer's enqueue, and the writer thread's blocks (LZ4, CRC32C,
/// SHA-256) and write(2), until the last record is acknowledged (fsync policy interval, so the figure is the
/// pipeline, not the disk). Per record; the baseline is the queue alone (enqueue and dequeue on one thread).
/// </summary>
[MemoryDiagnoser]
public class StoreBenchmarks
{
    private const int SmallRecords = 20_000;
    private const int Rows = 4_000;

    private string _directory = "";
    private SegmentStore _store = null!;
    private RecordRing _ring = null!;
    private byte[][] _statements = [];
    private byte[][] _rows = [];
    private ulong _sequence;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("appliance-bench-store-").FullName;
        _store = SegmentStore.Open(StoreBenchmarkData.Options(_directory));
        _ring = new RecordRing(8 * 1024 * 1024);
        _statements = StoreBenchmarkData.Statements(4096);
        _rows = StoreBenchmarkData.Rows(256);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = SmallRecords)]
    public long QueueOnly_100B()
    {
        long total = 0;
        for (var i = 0; i < SmallRecords; i++)
        {
            _ring.TryWrite(new RecordHeader(2, StoreBenchmarkData.Session(i & 31), _sequence++, 1), _statements[i & 4095], out _);
            _ring.TryRead(out var record);
            total += record.Length;
            if ((i & 1023) == 1023)
            {
                _ring.Release();
            }
        }
        _ring.Release();
        return total;
    }

    [Benchmark(OperationsPerInvoke = SmallRecords)]
    public long Append_100B()
    {
        long address = 0;
        for (var i = 0; i < SmallRecords; i++)
        {
            _store.Append(new RecordHeader(2, StoreBenchmarkData.Session(i & 31), _sequence++, 1_750_000_000_000_000 + i), _statements[i & 4095], out address);
        }
        _store.WaitForAcknowledgementAsync(address).AsTask().GetAwaiter().GetResult();
        return address;
    }

    [Benchmark(OperationsPerInvoke = Rows)]
    public long Append_4KRow()
    {
        long address = 0;
        for (var i = 0; i < Rows; i++)
        {
            _store.Append(new RecordHeader(4, StoreBenchmarkData.Session(i & 31), _sequence++, 1_750_000_000_000_000 + i), _rows[i & 255], out address);
        }
        _store.WaitForAcknowledgementAsync(address).AsTask().GetAwaiter().GetResult();
        return address;
    }
}

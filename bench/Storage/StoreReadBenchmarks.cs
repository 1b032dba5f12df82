using BenchmarkDotNet.Attributes;
using Appliance.Storage;

namespace Appliance.Bench.Storage;

/// <summary>
/// Reading back a store of about 64 MB of records (32 interleaved sessions of statements and 4 KB rows): every
/// record in order, and one session through the index. Baseline: reading the segment files' bytes.
/// </summary>
[MemoryDiagnoser]
public class StoreReadBenchmarks
{
    private string _directory = "";
    private StoreReader _reader = null!;
    private byte[] _buffer = new byte[1 << 20];

    /// <summary>Record bytes (headers and payloads) in the store: divide by the time for throughput.</summary>
    public static long RawBytes { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("appliance-bench-read-").FullName;
        var statements = StoreBenchmarkData.Statements(4096);
        var rows = StoreBenchmarkData.Rows(256);
        long raw = 0;
        using (var store = SegmentStore.Open(StoreBenchmarkData.Options(_directory)))
        {
            for (var i = 0; raw < 64L * 1024 * 1024; i++)
            {
                var payload = i % 4 == 3 ? rows[i & 255] : statements[i & 4095];
                store.Append(new RecordHeader(i % 4 == 3 ? (byte)4 : (byte)2, StoreBenchmarkData.Session(i & 31), (ulong)i, 1_750_000_000_000_000 + i), payload, out _);
                raw += RecordLayout.HeaderSize + payload.Length;
            }
        }
        RawBytes = raw;
        _reader = StoreReader.Open(_directory);
        Console.WriteLine($"// store: {raw} record bytes, {Directory.GetFiles(_directory, "*.seg").Sum(f => new FileInfo(f).Length)} bytes in segments");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _reader.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public long ReadSegmentFiles()
    {
        long total = 0;
        foreach (var path in Directory.GetFiles(_directory, "*.seg"))
        {
            using var file = File.OpenHandle(path);
            for (long at = 0; ; )
            {
                var n = RandomAccess.Read(file, _buffer, at);
                if (n == 0)
                {
                    break;
                }
                at += n;
                total += n;
            }
        }
        return total;
    }

    [Benchmark]
    public long ReadAllRecords()
    {
        long total = 0;
        using var cursor = _reader.ReadAll();
        foreach (var record in cursor)
        {
            total += RecordLayout.HeaderSize + record.Payload.Length;
        }
        return total;
    }

    [Benchmark]
    public long ReadOneSessionOf32()
    {
        long total = 0;
        using var cursor = _reader.ReadSession(StoreBenchmarkData.Session(5));
        foreach (var record in cursor)
        {
            total += record.Payload.Length;
        }
        return total;
    }
}

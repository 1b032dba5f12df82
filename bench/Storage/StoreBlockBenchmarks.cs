using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Appliance.Storage;
using K4os.Compression.LZ4;

namespace Appliance.Bench.Storage;

/// <summary>One 64 KB block of session records: each step the writer takes per block, and the whole seal. Baseline: copying the block.</summary>
[MemoryDiagnoser]
public class StoreBlockBenchmarks
{
    private readonly byte[] _raw = new byte[64 * 1024];
    private readonly byte[] _copy = new byte[64 * 1024];
    private readonly byte[] _compressed = new byte[LZ4Codec.MaximumOutputSize(64 * 1024)];
    private readonly byte[] _hash = new byte[32];
    private readonly byte[] _previous = new byte[32];
    private BlockBuilder _builder = null!;
    private int _compressedLength;

    [Params("statements", "rows")]
    public string Content { get; set; } = "statements";

    [GlobalSetup]
    public void Setup()
    {
        var payloads = Content == "rows" ? StoreBenchmarkData.Rows(256) : StoreBenchmarkData.Statements(4096);
        _builder = new BlockBuilder(64 * 1024, 1024 * 1024, LZ4Level.L00_FAST);
        var i = 0;
        Span<byte> record = stackalloc byte[RecordLayout.HeaderSize + 4096];
        while (true)
        {
            var payload = payloads[i % payloads.Length];
            RecordLayout.WriteHeader(record, new RecordHeader(2, StoreBenchmarkData.Session(i & 31), (ulong)i, 1_750_000_000_000_000 + i), payload.Length);
            payload.CopyTo(record[RecordLayout.HeaderSize..]);
            if (_builder.RawLength + RecordLayout.HeaderSize + payload.Length > _raw.Length)
            {
                break;
            }
            _builder.TryAdd(record[..(RecordLayout.HeaderSize + payload.Length)]);
            i++;
        }
        _builder.Raw.CopyTo(_raw);
        _compressedLength = LZ4Codec.Encode(_builder.Raw, _compressed, LZ4Level.L00_FAST);
    }

    [Benchmark(Baseline = true)]
    public void Copy64K() => _builder.Raw.CopyTo(_copy);

    [Benchmark]
    public int Lz4Compress64K() => LZ4Codec.Encode(_builder.Raw, _compressed, LZ4Level.L00_FAST);

    [Benchmark]
    public int Lz4Decompress64K() => LZ4Codec.Decode(_compressed.AsSpan(0, _compressedLength), _copy);

    [Benchmark]
    public uint Crc32C64K() => Crc32C.Compute(_builder.Raw);

    [Benchmark]
    public int Sha256Of64K() => SHA256.HashData(_builder.Raw, _hash);

    /// <summary>What the writer does per block before write(2): LZ4, CRC32C of the payload and header, SHA-256 of the frame.</summary>
    [Benchmark]
    public int SealBlock() => _builder.Seal(42, _previous, _hash, out _).Length;
}

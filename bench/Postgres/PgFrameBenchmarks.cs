using System.Buffers;
using System.Buffers.Binary;
using Appliance.Protocols.Postgres;
using BenchmarkDotNet.Attributes;

namespace Appliance.Bench.Postgres;

/// <summary>Reading a pgbench-like burst of messages (Bind/Execute/Sync, DataRows) from one and many segments.</summary>
[MemoryDiagnoser]
public class PgFrameBenchmarks
{
    private ReadOnlySequence<byte> _single;
    private ReadOnlySequence<byte> _segmented;
    private readonly ArrayBufferWriter<byte> _output = new(1 << 16);

    [GlobalSetup]
    public void Setup()
    {
        var burst = new List<byte>();
        for (int i = 0; i < 16; i++)
        {
            burst.AddRange(Frame((byte)'B', new byte[22]));
            burst.AddRange(Frame((byte)'E', new byte[5]));
            burst.AddRange(Frame((byte)'D', new byte[40]));
            burst.AddRange(Frame((byte)'S', []));
        }
        var bytes = burst.ToArray();
        _single = new ReadOnlySequence<byte>(bytes);
        _segmented = BenchSegments.Split(bytes, 61);
    }

    private static byte[] Frame(byte type, byte[] payload)
    {
        var bytes = new byte[5 + payload.Length];
        bytes[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), payload.Length + 4);
        payload.CopyTo(bytes, 5);
        return bytes;
    }

    /// <summary>Frames per operation: 64.</summary>
    [Benchmark(Baseline = true)]
    public int ReadFrames_SingleSegment() => Count(_single);

    [Benchmark]
    public int ReadFrames_MultiSegment() => Count(_segmented);

    private static int Count(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        int n = 0;
        while (PgFrameReader.TryRead(ref reader, 1 << 20, out var frame) == OperationStatus.Done)
        {
            n += frame.Type;
        }
        return n;
    }

    [Benchmark]
    public int WriteErrorResponse()
    {
        _output.ResetWrittenCount();
        PgMessageWriter.WriteError(_output, "ERROR", PgSqlState.InsufficientPrivilege, "statement refused by rule 3: class ddl");
        return _output.WrittenCount;
    }
}

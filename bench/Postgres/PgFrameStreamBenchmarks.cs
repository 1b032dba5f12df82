using System.Buffers;
using System.Buffers.Binary;
using Appliance.Postgres;
using Appliance.Protocols.Postgres;
using BenchmarkDotNet.Attributes;

namespace Appliance.Bench.Postgres;

/// <summary>
/// The relay's per-read work (<see cref="PgFrameStream.Forward"/>): frame every message, ask the inspector,
/// copy runs of unchanged messages to the output. Inputs are what one socket read holds under pgbench -S
/// (client and server side), a bulk result's worth of DataRows, and one large row streaming through in
/// 64 KB reads; from one buffer and from 61-byte segments. The inspector is a no-op struct, so this is the
/// relay's own cost. Nothing here may allocate.
/// </summary>
[MemoryDiagnoser]
public class PgFrameStreamBenchmarks
{
    private const int MaxLength = 1 << 30;
    private const int Batches = 16;

    private readonly PgFrameStream _stream = new();
    private readonly ArrayBufferWriter<byte> _output = new(1 << 18);
    private long _unchanged;
    private ReadOnlySequence<byte> _client;
    private ReadOnlySequence<byte> _clientSegmented;
    private ReadOnlySequence<byte> _upstream;
    private ReadOnlySequence<byte> _upstreamSegmented;
    private ReadOnlySequence<byte> _rows;
    private ReadOnlySequence<byte>[] _largeRowReads = [];

    /// <summary>Forwards everything, needs nothing whole (so large messages stream).</summary>
    private struct ForwardAll : IPgFrameInspector
    {
        public int Frames;

        public readonly bool NeedsWhole(byte type) => false;

        public PgFrameAction Inspect(in PgFrame frame)
        {
            Frames++;
            return PgFrameAction.Forward;
        }

        public readonly void WriteReplacement(in PgFrame frame, IBufferWriter<byte> output)
        {
        }
    }

    [GlobalSetup]
    public void Setup()
    {
        // pgbench -S -M prepared: Bind, Execute, Sync per transaction from the client...
        var client = new List<byte>();
        // ... and BindComplete, DataRow (one int4), CommandComplete "SELECT 1", ReadyForQuery from the server.
        var upstream = new List<byte>();
        for (int i = 0; i < Batches; i++)
        {
            client.AddRange(Frame(PgFrontend.Bind, 22));
            client.AddRange(Frame(PgFrontend.Execute, 5));
            client.AddRange(Frame(PgFrontend.Sync, 0));
            upstream.AddRange(Frame(PgBackend.BindComplete, 0));
            upstream.AddRange(Frame(PgBackend.DataRow, 10));
            upstream.AddRange(Frame(PgBackend.CommandComplete, 9));
            upstream.AddRange(Frame(PgBackend.ReadyForQuery, 1));
        }
        _client = new ReadOnlySequence<byte>(client.ToArray());
        _clientSegmented = BenchSegments.Split(client.ToArray(), 61);
        _upstream = new ReadOnlySequence<byte>(upstream.ToArray());
        _upstreamSegmented = BenchSegments.Split(upstream.ToArray(), 61);

        // select * from pgbench_accounts: DataRows of four columns, ~110 bytes each, filling a 64 KB read.
        var rows = new List<byte>();
        while (rows.Count < 64 * 1024 - 120)
        {
            rows.AddRange(Frame(PgBackend.DataRow, 106));
        }
        _rows = new ReadOnlySequence<byte>(rows.ToArray());

        // One 1 MB DataRow arriving in 64 KB reads: streamed through, never held whole.
        var large = Frame(PgBackend.DataRow, 1024 * 1024 - 5);
        var reads = new List<ReadOnlySequence<byte>>();
        for (int start = 0; start < large.Length; start += 64 * 1024)
        {
            reads.Add(new ReadOnlySequence<byte>(large, start, Math.Min(64 * 1024, large.Length - start)));
        }
        _largeRowReads = [.. reads];
    }

    private static byte[] Frame(byte type, int payloadLength)
    {
        var bytes = new byte[5 + payloadLength];
        bytes[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), payloadLength + 4);
        for (int i = 5; i < bytes.Length; i++)
        {
            bytes[i] = (byte)('a' + i % 26);
        }
        return bytes;
    }

    private int Forward(ReadOnlySequence<byte> input)
    {
        _output.ResetWrittenCount();
        var inspector = new ForwardAll();
        _stream.Forward(ref inspector, input, _output, MaxLength, out _, out long tail, out _, out _);
        // What the relay sends as it is, straight from its read buffer.
        _unchanged += tail;
        return inspector.Frames;
    }

    /// <summary>Messages per operation: 48.</summary>
    [Benchmark(Baseline = true)]
    public int Client_PgbenchPrepared_SingleSegment() => Forward(_client);

    [Benchmark]
    public int Client_PgbenchPrepared_MultiSegment() => Forward(_clientSegmented);

    /// <summary>Messages per operation: 64.</summary>
    [Benchmark]
    public int Upstream_PgbenchPrepared_SingleSegment() => Forward(_upstream);

    [Benchmark]
    public int Upstream_PgbenchPrepared_MultiSegment() => Forward(_upstreamSegmented);

    /// <summary>Messages per operation: 591 DataRows (64 KB).</summary>
    [Benchmark]
    public int Upstream_BulkRows_64KB() => Forward(_rows);

    /// <summary>One 1 MB message over 17 reads.</summary>
    [Benchmark]
    public int Upstream_LargeRowStreaming_1MB()
    {
        int frames = 0;
        foreach (var read in _largeRowReads)
        {
            frames += Forward(read);
        }
        return frames;
    }
}

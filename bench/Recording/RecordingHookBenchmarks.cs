using System.Buffers;
using System.Text;
using Appliance.Configuration;
using Appliance.Policy;
using Appliance.Postgres;
using Appliance.Recording;
using Appliance.Storage;
using BenchmarkDotNet.Attributes;

namespace Appliance.Bench.Recording;

/// <summary>
/// What recording adds to each pgbench -S transaction on the session's thread: the statement gate with a recorder
/// (the statement record, from the text and the gate's packed names), the DataRow and the CommandComplete (rows and
/// result records), into a real store whose writer thread runs alongside (fsync: interval, so the disk is not the
/// figure). Per transaction; the baseline is the same gate without a recorder. Nothing is allocated per record.
/// </summary>
[MemoryDiagnoser]
public class RecordingHookBenchmarks
{
    private const int Transactions = 2_000;

    private static readonly byte[] s_select = Encoding.UTF8.GetBytes("SELECT abalance FROM pgbench_accounts WHERE aid = 41234;");
    // The DataRow body of pgbench -S: one column, "-2791".
    private static readonly byte[] s_row = [0, 1, 0, 0, 0, 5, (byte)'-', (byte)'2', (byte)'7', (byte)'9', (byte)'1'];
    private static readonly byte[] s_tag = Encoding.UTF8.GetBytes("SELECT 1");

    private string _directory = "";
    private SegmentStore _store = null!;
    private SessionRecorder _recorder = null!;
    private PgStatementGate _plain = null!;
    private PgStatementGate _recorded = null!;
    private ReadOnlySequence<byte> _segmentedRow;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("appliance-bench-recording-").FullName;
        // Small segments, so the writer's per-segment index arrays come back to the pool within a short run instead of
        // growing (and allocating) through one 64 MB segment: the figure is the hook's, not the index's warm-up.
        var config = new RecordConfig { Fsync = FsyncPolicy.Interval, SegmentMaxBytes = 1024 * 1024, RetentionMaxTotalBytes = 64L * 1024 * 1024 };
        _store = SegmentStore.Open(RecordingService.StoreOptions(config, _directory, TimeProvider.System, null));
        _recorder = new SessionRecorder(_store, Guid.CreateVersion7(), TimeProvider.System, failSession: false, maxResultBytes: 64 * 1024);
        var appliance = new ApplianceConfig
        {
            Targets =
            [
                new TargetConfig
                {
                    Name = "bench",
                    Rules =
                    [
                        new RuleConfig { Roles = ["test"], Deny = ["ddl", "copy_in", "do"] },
                        new RuleConfig { Roles = ["test"], Allow = ["select", "transaction", "session"], Tables = ["public.*"] },
                    ],
                },
            ],
        };
        var policy = new PolicyStore(appliance);
        _plain = new PgStatementGate(new SessionPolicy(policy, "bench", ["test"]));
        _plain.UseSearchSchemas(["public"]);
        _recorded = new PgStatementGate(new SessionPolicy(policy, "bench", ["test"])) { Recorder = _recorder };
        _recorded.UseSearchSchemas(["public"]);
        _segmentedRow = BenchSegments.Split(s_row, 4);
        for (var i = 0; i < 50; i++)
        {
            PgbenchSelectTransaction(); // past the first few segments
        }
        _store.FlushAsync().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _recorder.End("benchmark done", 0, 0);
        _store.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Transactions)]
    public int Gate_NotRecorded()
    {
        var refused = 0;
        for (var i = 0; i < Transactions; i++)
        {
            refused += _plain.Decide(s_select) is null ? 0 : 1;
        }
        return refused;
    }

    [Benchmark(OperationsPerInvoke = Transactions)]
    public int Gate_Recorded()
    {
        var refused = 0;
        for (var i = 0; i < Transactions; i++)
        {
            refused += _recorded.Decide(s_select) is null ? 0 : 1;
            Pace();
        }
        return refused;
    }

    [Benchmark(OperationsPerInvoke = Transactions)]
    public int RowAndResult()
    {
        var recorded = 0;
        for (var i = 0; i < Transactions; i++)
        {
            recorded += _recorder.Rows(s_row) && _recorder.Result(s_tag, 1, null, null) ? 1 : 0;
            Pace();
        }
        return recorded;
    }

    [Benchmark(OperationsPerInvoke = Transactions)]
    public int RowAndResult_MultiSegment()
    {
        var recorded = 0;
        for (var i = 0; i < Transactions; i++)
        {
            recorded += _recorder.Rows(_segmentedRow) && _recorder.Result(s_tag, 1, null, null) ? 1 : 0;
            Pace();
        }
        return recorded;
    }

    [Benchmark(OperationsPerInvoke = Transactions)]
    public int PgbenchSelectTransaction()
    {
        var recorded = 0;
        for (var i = 0; i < Transactions; i++)
        {
            recorded += _recorded.Decide(s_select) is null && _recorder.Rows(s_row) && _recorder.Result(s_tag, 1, null, null) ? 1 : 0;
            Pace();
        }
        return recorded;
    }

    /// <summary>
    /// What a session does when its records wait for room (it holds its next message): this loop produces far faster
    /// than any disk, so without it the waiting records would pile up. Spins, so the wait allocates nothing.
    /// </summary>
    private void Pace()
    {
        var spin = new SpinWait();
        while (_recorder.MustWait)
        {
            spin.SpinOnce();
        }
    }
}

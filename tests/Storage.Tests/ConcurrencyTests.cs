namespace Appliance.Storage.Tests;

public sealed class ConcurrencyTests
{
    [Theory]
    [InlineData(FsyncPolicy.Batch, 1 << 16)]
    [InlineData(FsyncPolicy.Interval, 1 << 20)]
    public async Task ManyProducers_EveryRecordExactlyOnce_InSessionOrder(FsyncPolicy policy, int queueBytes)
    {
        const int Producers = 8;
        const int SessionsPerProducer = 4;
        const int RecordsPerSession = 1500;
        using var dir = new StoreDirectory();
        await using (var store = SegmentStore.Open(dir.Options(fsync: policy, queueBytes: queueBytes, maxRecordBytes: 1024, segmentMaxBytes: 256 * 1024)))
        {
            var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(() =>
            {
                for (var q = 0; q < RecordsPerSession; q++)
                {
                    for (var s = 0; s < SessionsPerProducer; s++)
                    {
                        var session = p * SessionsPerProducer + s;
                        Assert.Equal(AppendStatus.Appended, store.Append(TestRecords.Header(session, q), TestRecords.Payload(session, q, 40 + q % 200), out _));
                    }
                }
            })).ToArray();
            await Task.WhenAll(producers);
        }

        var bySession = dir.ReadAll().GroupBy(r => r.Header.SessionId).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(Producers * SessionsPerProducer, bySession.Count);
        for (var session = 0; session < Producers * SessionsPerProducer; session++)
        {
            var records = bySession[TestRecords.Session(session)];
            Assert.Equal(Enumerable.Range(0, RecordsPerSession).Select(q => (ulong)q), records.Select(r => r.Header.Sequence));
            Assert.All(records, r => Assert.Equal(TestRecords.Payload(session, (int)r.Header.Sequence, 40 + (int)r.Header.Sequence % 200), r.Payload));
        }
        Assert.True(StoreVerifier.Verify(dir.Path).Intact);
    }

    [Fact]
    public async Task FullQueue_TryAppendSaysFull_AppendWaitsUntilTheWriterFreesSpace()
    {
        using var dir = new StoreDirectory();
        using var gate = new ManualResetEventSlim(false);
        var holding = new ManualResetEventSlim(false);
        var options = dir.Options(fsync: FsyncPolicy.Always, queueBytes: 4096, maxRecordBytes: 1000, syncObserver: (_, _) =>
        {
            holding.Set();
            gate.Wait(); // the disk is slow: the writer sits in fsync
        });
        await using var store = SegmentStore.Open(options);
        Assert.Equal(AppendStatus.Appended, store.TryAppend(TestRecords.Header(1, 0), new byte[100], out _));
        Assert.True(holding.Wait(TimeSpan.FromSeconds(10)));

        var appended = 1;
        while (store.TryAppend(TestRecords.Header(1, appended), new byte[100], out _) == AppendStatus.Appended)
        {
            appended++;
            Assert.True(appended < 100, "the queue never filled");
        }
        Assert.Equal(AppendStatus.Full, store.TryAppend(TestRecords.Header(1, appended), new byte[100], out _));

        var blocked = Task.Run(() => store.Append(TestRecords.Header(1, appended), new byte[100], out _));
        Assert.False(blocked.IsCompleted);
        gate.Set();
        Assert.Equal(AppendStatus.Appended, await blocked.WaitAsync(TimeSpan.FromSeconds(10)));
        await store.FlushAsync();
        Assert.Equal(appended + 1, dir.ReadAll().Count);
    }

    [Fact]
    public async Task Dispose_WakesProducersWaitingForSpace()
    {
        using var dir = new StoreDirectory();
        using var gate = new ManualResetEventSlim(false);
        var (store, n) = OpenStalledAndFull(dir, gate);
        var blocked = Task.Run(() => store.Append(TestRecords.Header(1, n), new byte[100], out _));
        var closing = store.DisposeAsync().AsTask();
        gate.Set();
        var status = await blocked.WaitAsync(TimeSpan.FromSeconds(10));
        await closing.WaitAsync(TimeSpan.FromSeconds(10));
        // Either the writer freed space before the close took effect, or the close refused it: never a hang.
        Assert.Contains(status, new[] { AppendStatus.Appended, AppendStatus.Closed });
        Assert.Equal(n + (status == AppendStatus.Appended ? 1 : 0), dir.ReadAll().Count);
    }

    [Fact]
    public async Task WhenSpace_QueueFull_CalledWhenTheWriterFreesSpace()
    {
        using var dir = new StoreDirectory();
        using var gate = new ManualResetEventSlim(false);
        var (opened, n) = OpenStalledAndFull(dir, gate);
        await using var store = opened;
        var space = new SpaceSignal();
        Assert.True(store.WhenSpace(space));
        Assert.Equal(AppendStatus.Full, store.TryAppend(TestRecords.Header(1, n), new byte[100], out _));
        Assert.False(space.Called.IsCompleted);
        gate.Set();
        await space.Called.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(AppendStatus.Appended, store.TryAppend(TestRecords.Header(1, n), new byte[100], out _));
        await store.FlushAsync();
        Assert.Equal(n + 1, dir.ReadAll().Count);
    }

    [Fact]
    public async Task WhenSpace_StoreCloses_Called_AndRefusedAfterwards()
    {
        using var dir = new StoreDirectory();
        using var gate = new ManualResetEventSlim(false);
        var (store, n) = OpenStalledAndFull(dir, gate);
        var space = new SpaceSignal();
        Assert.True(store.WhenSpace(space));
        var closing = store.DisposeAsync().AsTask();
        await space.Called.WaitAsync(TimeSpan.FromSeconds(10));
        gate.Set();
        await closing.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(AppendStatus.Closed, store.TryAppend(TestRecords.Header(1, n), new byte[100], out _));
        Assert.False(store.WhenSpace(new SpaceSignal()));
    }

    /// <summary>
    /// Opens a store whose writer sits in its first fsync until <paramref name="gate"/> is set (a slow disk) and fills
    /// its queue with 100-byte records; returns it and how many records it took (sequence numbers 0 to n - 1).
    /// </summary>
    private static (SegmentStore Store, int Appended) OpenStalledAndFull(StoreDirectory dir, ManualResetEventSlim gate)
    {
        // Not disposed: the writer sets it at every fsync, also after this returns.
        var holding = new ManualResetEventSlim(false);
        var store = SegmentStore.Open(dir.Options(fsync: FsyncPolicy.Always, queueBytes: 4096, maxRecordBytes: 1000, syncObserver: (_, _) =>
        {
            holding.Set();
            gate.Wait();
        }));
        Assert.Equal(AppendStatus.Appended, store.TryAppend(TestRecords.Header(1, 0), new byte[100], out _));
        Assert.True(holding.Wait(TimeSpan.FromSeconds(10)));
        var n = 1;
        while (store.TryAppend(TestRecords.Header(1, n), new byte[100], out _) == AppendStatus.Appended)
        {
            n++;
            Assert.True(n < 100, "the queue never filled");
        }
        return (store, n);
    }

    private sealed class SpaceSignal : ISpaceWaiter
    {
        private readonly TaskCompletionSource _called = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Called => _called.Task;

        public void OnSpace() => Assert.True(_called.TrySetResult(), "called twice for one registration");
    }
}

using System.Collections.Concurrent;

namespace Appliance.Storage.Tests;

/// <summary>
/// What "acknowledged" means under each policy. A process crash leaves what was written to the kernel (a copy of
/// the files as they are); a power loss leaves only what was fsynced (the files cut to the lengths the writer
/// had synced, as reported by its sync observer before it acknowledged anything).
/// </summary>
public sealed class FsyncPolicyTests
{
    private sealed class SyncedLengths
    {
        private readonly ConcurrentDictionary<string, long> _lengths = new(StringComparer.Ordinal);

        public void Observe(string path, long length) => _lengths.AddOrUpdate(Path.GetFileName(path), length, (_, old) => Math.Max(old, length));

        /// <summary>A file never synced is empty after a power loss; index files are derived and dropped.</summary>
        public long LengthAfterPowerLoss(string file, long length) =>
            file.EndsWith(".seg", StringComparison.Ordinal) ? _lengths.GetValueOrDefault(Path.GetFileName(file)) : 0;
    }

    [Theory]
    [InlineData(FsyncPolicy.Always)]
    [InlineData(FsyncPolicy.Batch)]
    public async Task Acknowledged_SurvivesPowerLoss_ForAlwaysAndBatch(FsyncPolicy policy)
    {
        using var dir = new StoreDirectory();
        var synced = new SyncedLengths();
        await using var store = SegmentStore.Open(dir.Options(fsync: policy, segmentMaxBytes: 8192, blockBytes: 1024, syncObserver: synced.Observe));
        long address = 0;
        for (var i = 0; i < 200; i++)
        {
            store.Append(TestRecords.Header(1, i), TestRecords.Payload(1, i, 100), out address);
            if (i % 50 == 49)
            {
                await store.WaitForAcknowledgementAsync(address);
                using var image = dir.Snapshot(synced.LengthAfterPowerLoss);
                await using (var reopened = SegmentStore.Open(image.Options()))
                {
                    Assert.Empty(reopened.Recovery.Problems);
                }
                var sequences = image.ReadAll().Select(r => (int)r.Header.Sequence).ToList();
                Assert.True(sequences.Count >= i + 1, $"{policy}: acknowledged {i + 1} records, {sequences.Count} survived");
                Assert.Equal(Enumerable.Range(0, sequences.Count), sequences);
                Assert.True(StoreVerifier.Verify(image.Path).Intact);
            }
        }
        Assert.True(store.DurableAddress >= address);
    }

    [Fact]
    public async Task Interval_AcknowledgesOnWrite_SurvivesProcessCrash_AndFlushMakesItDurable()
    {
        using var dir = new StoreDirectory();
        var synced = new SyncedLengths();
        await using var store = SegmentStore.Open(dir.Options(fsync: FsyncPolicy.Interval, fsyncInterval: TimeSpan.FromHours(1), syncObserver: synced.Observe));
        long address = 0;
        for (var i = 0; i < 20; i++)
        {
            store.Append(TestRecords.Header(1, i), TestRecords.Payload(1, i), out address);
        }
        await store.WaitForAcknowledgementAsync(address);

        // Acknowledged, not yet fsynced: a process crash keeps it, a power loss need not.
        Assert.True(store.DurableAddress < address);
        using (var crash = dir.Snapshot())
        {
            await using (SegmentStore.Open(crash.Options()))
            {
            }
            Assert.Equal(20, crash.ReadAll().Count);
        }
        using (var powerLoss = dir.Snapshot(synced.LengthAfterPowerLoss))
        {
            Assert.Empty(powerLoss.ReadAll());
        }

        await store.FlushAsync();
        Assert.True(store.DurableAddress >= address);
        using (var powerLoss = dir.Snapshot(synced.LengthAfterPowerLoss))
        {
            await using (SegmentStore.Open(powerLoss.Options()))
            {
            }
            Assert.Equal(20, powerLoss.ReadAll().Count);
        }
    }

    [Fact]
    public async Task Interval_SyncsWithinTheInterval()
    {
        using var dir = new StoreDirectory();
        await using var store = SegmentStore.Open(dir.Options(fsync: FsyncPolicy.Interval, fsyncInterval: TimeSpan.FromMilliseconds(20)));
        store.Append(TestRecords.Header(1, 0), TestRecords.Payload(1, 0), out var address);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (store.DurableAddress < address && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }
        Assert.True(store.DurableAddress >= address, "the interval fsync did not happen");
    }

    [Fact]
    public async Task EnqueuedButNotWritten_IsNotAcknowledged()
    {
        using var dir = new StoreDirectory();
        using var gate = new ManualResetEventSlim(false);
        var first = true;
        var options = dir.Options(fsync: FsyncPolicy.Always, syncObserver: (_, _) =>
        {
            if (first)
            {
                first = false;
                gate.Wait(); // hold the writer inside its first fsync
            }
        });
        await using var store = SegmentStore.Open(options);
        store.Append(TestRecords.Header(1, 0), [1], out var a1);
        store.Append(TestRecords.Header(1, 1), [2], out var a2);
        var wait = store.WaitForAcknowledgementAsync(a2).AsTask();
        Assert.True(store.AcknowledgedAddress < a1);
        Assert.False(wait.IsCompleted);
        gate.Set();
        await wait;
        Assert.True(store.AcknowledgedAddress >= a2);
    }
}

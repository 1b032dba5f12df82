using System.Security.Cryptography;

namespace Appliance.Storage.Tests;

public sealed class RetentionTests
{
    private static async Task FillAsync(SegmentStore store, int records, int session = 1, Func<int, DateTimeOffset>? at = null)
    {
        for (var i = 0; i < records; i++)
        {
            store.Append(TestRecords.Header(session, i, at: at?.Invoke(i)), RandomNumberGenerator.GetBytes(200), out _);
            if (i % 4 == 3)
            {
                await store.FlushAsync();
            }
        }
        await store.FlushAsync();
    }

    [Fact]
    public async Task MaxTotalBytes_DeletesOldestWholeSegments_AndVerifyStillPasses()
    {
        using var dir = new StoreDirectory();
        var events = new List<StoreEvent>();
        await using (var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 4096, blockBytes: 1024, maxTotalBytes: 12 * 1024, events: events)))
        {
            await FillAsync(store, 200);
            await store.RunRetentionAsync();
        }

        var segments = dir.SegmentFiles();
        Assert.True(segments.Sum(s => new FileInfo(s).Length) <= 12 * 1024 + 4096);
        Assert.NotEqual("0000000000000001.seg", Path.GetFileName(segments[0]));
        Assert.Contains(events, e => e.Kind == StoreEventKind.SegmentDeleted);
        var report = StoreVerifier.Verify(dir.Path);
        Assert.True(report.Intact, report.Problem);
        Assert.True(report.FirstBlockNumber > 0);
        Assert.True(report.DeletedSegments > 0);

        // The newest records are kept, the oldest are gone, and what remains is contiguous.
        var sequences = dir.ReadAll().Where(r => r.Header.Type != StoreRecordTypes.SegmentDeleted).Select(r => (int)r.Header.Sequence).ToList();
        Assert.Equal(199, sequences[^1]);
        Assert.NotEqual(0, sequences[0]);
        Assert.Equal(Enumerable.Range(sequences[0], sequences.Count), sequences);
    }

    [Fact]
    public async Task DeletionRecords_AreInTheChain()
    {
        using var dir = new StoreDirectory();
        await using (var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 4096, blockBytes: 1024, maxTotalBytes: 8 * 1024)))
        {
            await FillAsync(store, 100);
            await store.RunRetentionAsync();
        }

        var deletions = dir.ReadAll().Where(r => r.Header.Type == StoreRecordTypes.SegmentDeleted)
            .Select(r => SegmentDeletion.TryRead(r.Payload)!).ToList();
        Assert.NotEmpty(deletions);
        var firstRemaining = long.Parse(Path.GetFileNameWithoutExtension(dir.SegmentFiles()[0]), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains(deletions, d => d.SegmentNumber == firstRemaining - 1 && d.Reason == DeletionReason.MaxTotalBytes);
        Assert.All(deletions, d => Assert.Equal(32, d.LastHash.Length));
    }

    [Fact]
    public async Task MaxAge_DeletesSegmentsWhoseNewestRecordIsOlder()
    {
        using var dir = new StoreDirectory();
        var clock = new ManualTimeProvider(TestRecords.Start);
        await using (var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 4096, blockBytes: 1024, time: clock, maxAge: TimeSpan.FromDays(1))))
        {
            await FillAsync(store, 60, session: 1, at: i => TestRecords.Start.AddSeconds(i));
            var before = dir.SegmentFiles().Length;
            clock.Advance(TimeSpan.FromDays(1) + TimeSpan.FromHours(1));
            await FillAsync(store, 20, session: 2, at: _ => clock.GetUtcNow());
            await store.RunRetentionAsync();
            Assert.True(before > 2);
        }

        var left = dir.ReadAll().Where(r => r.Header.Type != StoreRecordTypes.SegmentDeleted).ToList();
        Assert.All(left.Where(r => r.Header.SessionId == TestRecords.Session(1)), r => Assert.True(r.Header.Sequence > 0));
        Assert.Equal(20, left.Count(r => r.Header.SessionId == TestRecords.Session(2)));
        Assert.True(left.Count(r => r.Header.SessionId == TestRecords.Session(1)) < 60);
        Assert.True(StoreVerifier.Verify(dir.Path).Intact);
    }

    [Fact]
    public async Task RetentionRunsAgainAfterReopen_VerifyStillPasses()
    {
        using var dir = new StoreDirectory();
        for (var run = 0; run < 3; run++)
        {
            await using var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 4096, blockBytes: 1024, maxTotalBytes: 10 * 1024));
            await FillAsync(store, 80, session: run);
            await store.RunRetentionAsync();
            var report = StoreVerifier.Verify(dir.Path);
            Assert.True(report.Intact, $"run {run}: {report.Problem}");
        }
    }

    [Fact]
    public async Task TheActiveSegment_IsNeverDeleted()
    {
        using var dir = new StoreDirectory();
        var clock = new ManualTimeProvider(TestRecords.Start);
        await using (var store = SegmentStore.Open(dir.Options(time: clock, maxAge: TimeSpan.FromMinutes(1), maxTotalBytes: 1)))
        {
            await FillAsync(store, 10);
            clock.Advance(TimeSpan.FromDays(30));
            await store.RunRetentionAsync();
        }
        Assert.Single(dir.SegmentFiles());
        Assert.Equal(10, dir.ReadAll().Count);
    }

    [Fact]
    public async Task WithoutRetention_NothingIsDeleted()
    {
        using var dir = new StoreDirectory();
        await using (var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 4096, blockBytes: 1024)))
        {
            await FillAsync(store, 100);
            await store.RunRetentionAsync();
        }
        Assert.Equal(100, dir.ReadAll().Count);
        Assert.Equal(0, StoreVerifier.Verify(dir.Path).FirstBlockNumber);
    }
}

namespace Appliance.Storage.Tests;

public sealed class RecoveryTests
{
    /// <summary>
    /// Writes batches with a flush after each (so at least one block per batch; the writer may seal more often);
    /// returns the segment file, where the last block starts and ends, and how many blocks and records precede it.
    /// </summary>
    private static async Task<(string Segment, long LastBlockStart, long End, int BlocksBefore, int RecordsBefore)> WriteBlocks(
        StoreDirectory dir, int batches, int recordsPerBatch)
    {
        await using var store = SegmentStore.Open(dir.Options(fsync: FsyncPolicy.Always));
        for (var b = 0; b < batches; b++)
        {
            for (var r = 0; r < recordsPerBatch; r++)
            {
                store.Append(TestRecords.Header(b, r), TestRecords.Payload(b, r, 60), out _);
            }
            await store.FlushAsync();
        }
        var blocks = StoreLayout.Blocks(dir.Path);
        Assert.True(blocks.Count >= batches);
        return (blocks[^1].Path, blocks[^1].Offset, blocks[^1].Offset + blocks[^1].Length, blocks.Count - 1,
            batches * recordsPerBatch - blocks[^1].Records);
    }

    [Fact]
    public async Task TornTail_AtEveryByteOfTheLastBlock_IsTruncatedAndEarlierBlocksSurvive()
    {
        using var original = new StoreDirectory();
        var (segment, lastStart, end, blocksBefore, recordsBefore) = await WriteBlocks(original, batches: 4, recordsPerBatch: 3);
        var name = Path.GetFileName(segment);
        var survivors = original.ReadAll().Take(recordsBefore).ToList();

        for (var cut = lastStart; cut < end; cut++)
        {
            using var dir = original.Snapshot((file, length) => Path.GetFileName(file) == name ? cut : length);
            var events = new List<StoreEvent>();
            await using (var store = SegmentStore.Open(dir.Options(events: events)))
            {
                Assert.Equal(cut - lastStart, store.Recovery.TruncatedBytes);
                Assert.Empty(store.Recovery.Problems);
                Assert.Equal(blocksBefore, store.Recovery.NextBlockNumber);
                if (cut > lastStart)
                {
                    Assert.Contains(events, e => e.Kind == StoreEventKind.TornTailTruncated && e.Offset == lastStart);
                }
            }

            Assert.Equal(lastStart, new FileInfo(Path.Combine(dir.Path, name)).Length);
            var records = dir.ReadAll();
            Assert.Equal(survivors.Select(r => r.Header), records.Select(r => r.Header));
            Assert.Equal(survivors.Select(r => r.Payload), records.Select(r => r.Payload));
            var report = StoreVerifier.Verify(dir.Path);
            Assert.True(report.Intact, $"cut at {cut}: {report.Problem}");
            Assert.Empty(report.Warnings);
        }
    }

    [Fact]
    public async Task TornTail_ThenMoreAppends_ChainContinuesFromTheLastWholeBlock()
    {
        using var original = new StoreDirectory();
        var (segment, lastStart, end, _, recordsBefore) = await WriteBlocks(original, batches: 3, recordsPerBatch: 2);
        var name = Path.GetFileName(segment);
        using var dir = original.Snapshot((file, length) => Path.GetFileName(file) == name ? (lastStart + end) / 2 : length);

        await using (var store = SegmentStore.Open(dir.Options()))
        {
            store.Append(TestRecords.Header(9, 0), TestRecords.Payload(9, 0), out _);
        }

        var report = StoreVerifier.Verify(dir.Path);
        Assert.True(report.Intact, report.Problem);
        Assert.Equal(recordsBefore + 1, report.Records);
    }

    [Fact]
    public async Task ZeroFilledTail_IsTruncated()
    {
        using var dir = new StoreDirectory();
        var (segment, _, end, _, _) = await WriteBlocks(dir, batches: 2, recordsPerBatch: 2);
        using (var file = new FileStream(segment, FileMode.Open))
        {
            file.SetLength(end + 8192); // the filesystem extended the file but the data never landed
        }

        await using (var store = SegmentStore.Open(dir.Options()))
        {
            Assert.Equal(8192, store.Recovery.TruncatedBytes);
        }
        Assert.True(StoreVerifier.Verify(dir.Path).Intact);
        Assert.Equal(4, dir.ReadAll().Count);
    }

    [Fact]
    public async Task UnwrittenSectorsInTheLastBlock_AreTornNotDamage()
    {
        using var dir = new StoreDirectory();
        await using (var store = SegmentStore.Open(dir.Options(fsync: FsyncPolicy.Always)))
        {
            store.Append(TestRecords.Header(1, 0), TestRecords.Payload(1, 0), out _);
            await store.FlushAsync();
            store.Append(TestRecords.Header(2, 0), System.Security.Cryptography.RandomNumberGenerator.GetBytes(4000), out _);
        }
        var last = StoreLayout.Blocks(dir.Path)[^1];
        using (var file = new FileStream(last.Path, FileMode.Open, FileAccess.Write))
        {
            file.Position = last.Offset + last.Length - 600;
            file.Write(new byte[600]); // the length is there, the last pages are not
        }

        await using (var store = SegmentStore.Open(dir.Options()))
        {
            Assert.Equal(last.Length, store.Recovery.TruncatedBytes);
            Assert.Empty(store.Recovery.Problems);
        }
        Assert.Single(dir.ReadAll());
    }

    [Fact]
    public async Task BitFlipInTheLastBlock_IsReportedNotTruncated_AndWritingMovesToANewSegment()
    {
        using var dir = new StoreDirectory();
        var (segment, lastStart, end, _, _) = await WriteBlocks(dir, batches: 3, recordsPerBatch: 2);
        StoreLayout.FlipBit(segment, end - 5, 0);
        var events = new List<StoreEvent>();

        await using (var store = SegmentStore.Open(dir.Options(events: events)))
        {
            Assert.Equal(0, store.Recovery.TruncatedBytes);
            var problem = Assert.Single(store.Recovery.Problems);
            Assert.Equal(StoreEventSeverity.Critical, problem.Severity);
            Assert.Equal(lastStart, problem.Offset);
            Assert.Contains(events, e => e.Kind == StoreEventKind.ChainBroken);
            store.Append(TestRecords.Header(7, 0), TestRecords.Payload(7, 0), out _);
        }

        Assert.Equal(end, new FileInfo(segment).Length); // never repaired
        Assert.Equal(2, dir.SegmentFiles().Length);
        var report = StoreVerifier.Verify(dir.Path);
        Assert.False(report.Intact);
        Assert.Equal((segment, lastStart), (report.Segment, report.Offset));
    }

    [Fact]
    public async Task BitFlipInAnEarlierBlockOfTheLastSegment_IsReportedNotTruncated()
    {
        using var dir = new StoreDirectory();
        var (segment, _, end, _, _) = await WriteBlocks(dir, batches: 4, recordsPerBatch: 2);
        var second = StoreLayout.Blocks(dir.Path)[1];
        StoreLayout.FlipBit(segment, second.Offset + 10, 2); // inside the header: its checksum fails

        await using (var store = SegmentStore.Open(dir.Options()))
        {
            Assert.Equal(0, store.Recovery.TruncatedBytes);
            Assert.Equal(second.Offset, Assert.Single(store.Recovery.Problems).Offset);
        }
        Assert.Equal(end, new FileInfo(segment).Length);
    }

    [Fact]
    public async Task SegmentWithTornHeader_IsRemovedAndRecreated()
    {
        using var dir = new StoreDirectory();
        await WriteBlocks(dir, batches: 2, recordsPerBatch: 2);
        var next = Path.Combine(dir.Path, "0000000000000002.seg");
        File.WriteAllBytes(next, new byte[30]); // created, header never finished

        await using (var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 4096)))
        {
            Assert.Empty(store.Recovery.Problems);
            Assert.Equal(30, store.Recovery.TruncatedBytes);
            for (var i = 0; i < 40; i++)
            {
                store.Append(TestRecords.Header(5, i), System.Security.Cryptography.RandomNumberGenerator.GetBytes(200), out _);
            }
        }

        var report = StoreVerifier.Verify(dir.Path);
        Assert.True(report.Intact, report.Problem);
        Assert.True(report.Segments >= 2);
        Assert.Equal(44, report.Records);
    }

    [Fact]
    public async Task MissingSealedIndex_IsRebuiltAtOpen()
    {
        using var dir = new StoreDirectory();
        await using (var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 4096, blockBytes: 1024)))
        {
            for (var i = 0; i < 60; i++)
            {
                store.Append(TestRecords.Header(1, i), System.Security.Cryptography.RandomNumberGenerator.GetBytes(200), out _);
                if (i % 5 == 4)
                {
                    await store.FlushAsync();
                }
            }
        }
        Assert.True(dir.SegmentFiles().Length >= 3);
        var first = Directory.GetFiles(dir.Path, "*.idx").Order(StringComparer.Ordinal).First();
        File.Delete(first);

        await using (var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 4096)))
        {
            Assert.True(store.Recovery.IndexesRebuilt >= 2); // the missing one and the active segment
        }
        Assert.True(File.Exists(first));
        Assert.Empty(StoreVerifier.Verify(dir.Path).IndexProblems);
    }
}

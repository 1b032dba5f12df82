using System.Security.Cryptography;

namespace Appliance.Storage.Tests;

public sealed class SegmentStoreTests
{
    [Fact]
    public async Task Append_ThenReadAll_ReturnsEveryRecordInOrder()
    {
        using var dir = new StoreDirectory();
        await using (var store = SegmentStore.Open(dir.Options()))
        {
            TestRecords.AppendMany(store, sessions: 3, perSession: 100);
        }

        var records = dir.ReadAll();
        Assert.Equal(300, records.Count);
        var i = 0;
        for (var q = 0; q < 100; q++)
        {
            for (var s = 0; s < 3; s++)
            {
                Assert.Equal(TestRecords.Header(s, q), records[i].Header);
                Assert.Equal(TestRecords.Payload(s, q), records[i].Payload);
                i++;
            }
        }
        Assert.True(StoreVerifier.Verify(dir.Path).Intact);
    }

    [Fact]
    public async Task Append_IncompressiblePayloads_StoredUncompressedAndReadBack()
    {
        using var dir = new StoreDirectory();
        var payloads = Enumerable.Range(0, 50).Select(_ => RandomNumberGenerator.GetBytes(3000)).ToList();
        await using (var store = SegmentStore.Open(dir.Options()))
        {
            for (var i = 0; i < payloads.Count; i++)
            {
                Assert.Equal(AppendStatus.Appended, store.Append(TestRecords.Header(1, i), payloads[i], out _));
            }
        }

        Assert.Equal(payloads, dir.ReadAll().Select(r => r.Payload));
        Assert.True(StoreVerifier.Verify(dir.Path).Intact);
    }

    [Fact]
    public async Task SmallSegments_RollOverAndChainAcrossFiles()
    {
        using var dir = new StoreDirectory();
        var events = new List<StoreEvent>();
        await using (var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 8 * 1024, blockBytes: 2048, events: events)))
        {
            for (var i = 0; i < 400; i++)
            {
                store.Append(TestRecords.Header(i % 7, i / 7), RandomNumberGenerator.GetBytes(100), out _);
                if (i % 20 == 19)
                {
                    await store.FlushAsync();
                }
            }
        }

        var segments = dir.SegmentFiles();
        Assert.True(segments.Length >= 4, $"expected several segments, got {segments.Length}");
        Assert.All(segments, s => Assert.True(new FileInfo(s).Length <= 8 * 1024, $"{s} is {new FileInfo(s).Length} bytes"));
        Assert.Contains(events, e => e.Kind == StoreEventKind.SegmentSealed);
        var blocks = StoreLayout.Blocks(dir.Path);
        Assert.Equal(Enumerable.Range(0, blocks.Count).Select(i => (long)i), blocks.Select(b => b.BlockNumber));
        var report = StoreVerifier.Verify(dir.Path);
        Assert.True(report.Intact, report.Problem);
        Assert.Equal(segments.Length, report.Segments);
        Assert.Equal(400, report.Records);
        Assert.Equal(400, dir.ReadAll().Count);
        Assert.All(segments, s => Assert.True(File.Exists(Path.ChangeExtension(s, ".idx")), $"no index for {s}"));
    }

    [Fact]
    public async Task Reopen_ContinuesTheChainAndBlockNumbers()
    {
        using var dir = new StoreDirectory();
        for (var run = 0; run < 3; run++)
        {
            await using var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 16 * 1024));
            Assert.Equal(0, store.Recovery.TruncatedBytes);
            Assert.Empty(store.Recovery.Problems);
            for (var i = 0; i < 50; i++)
            {
                store.Append(TestRecords.Header(run, i), TestRecords.Payload(run, i, 300), out _);
            }
        }

        var report = StoreVerifier.Verify(dir.Path);
        Assert.True(report.Intact, report.Problem);
        Assert.Equal(150, report.Records);
        Assert.Empty(report.IndexProblems);
        Assert.Equal(150, dir.ReadAll().Count);
    }

    [Fact]
    public async Task ReadSession_ReadsOnlyThatSessionsBlocks()
    {
        using var dir = new StoreDirectory();
        await using (var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 8 * 1024, blockBytes: 2048)))
        {
            // Session 1 writes first and alone; session 2 only at the end, in later segments.
            for (var i = 0; i < 100; i++)
            {
                store.Append(TestRecords.Header(1, i), TestRecords.Payload(1, i, 200), out _);
            }
            await store.FlushAsync();
            for (var i = 0; i < 10; i++)
            {
                store.Append(TestRecords.Header(2, i), TestRecords.Payload(2, i, 200), out _);
            }
        }
        // Damage the first block: only a reader that consults the index can still read session 2.
        var first = StoreLayout.Blocks(dir.Path)[0];
        StoreLayout.FlipBit(first.Path, first.Offset + first.Length - 10, 3);

        using var reader = StoreReader.Open(dir.Path);
        using (var session2 = reader.ReadSession(TestRecords.Session(2)))
        {
            Assert.Equal(Enumerable.Range(0, 10).Select(i => (ulong)i), session2.Select(r => r.Sequence).ToList());
        }
        using var all = reader.ReadAll();
        var error = Assert.Throws<StoreReadException>(() => all.Count());
        Assert.Equal(first.Path, error.Segment);
        Assert.Equal(first.Offset, error.Offset);
    }

    [Fact]
    public async Task ListSessions_GivesTimeSpanAndCountPerSession()
    {
        using var dir = new StoreDirectory();
        await using (var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 8 * 1024, blockBytes: 2048)))
        {
            for (var q = 0; q < 60; q++)
            {
                for (var s = 0; s < 4; s++)
                {
                    store.Append(TestRecords.Header(s, q), RandomNumberGenerator.GetBytes(100), out _);
                }
            }
        }

        using var reader = StoreReader.Open(dir.Path);
        var sessions = reader.ListSessions();
        Assert.Equal(Enumerable.Range(0, 4).Select(TestRecords.Session), sessions.Select(s => s.SessionId));
        Assert.All(sessions, s =>
        {
            Assert.Equal(60, s.RecordCount);
            Assert.Equal(TestRecords.Start, s.FirstRecord);
            Assert.Equal(TestRecords.Start.AddMilliseconds(59), s.LastRecord);
            Assert.True(s.Segments.Count > 1);
        });
    }

    [Fact]
    public async Task ReadSince_SkipsOlderRecords()
    {
        using var dir = new StoreDirectory();
        await using (var store = SegmentStore.Open(dir.Options(blockBytes: 2048)))
        {
            TestRecords.AppendMany(store, sessions: 2, perSession: 500, size: 50);
        }

        using var reader = StoreReader.Open(dir.Path);
        using var since = reader.ReadSince(TestRecords.Start.AddMilliseconds(400));
        var sequences = since.Select(r => r.Sequence).ToList();
        Assert.Equal(200, sequences.Count);
        Assert.All(sequences, q => Assert.True(q >= 400));
    }

    [Fact]
    public async Task MissingIndexFile_IsRebuiltByTheReader()
    {
        using var dir = new StoreDirectory();
        await using (var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 8 * 1024, blockBytes: 2048)))
        {
            TestRecords.AppendMany(store, sessions: 3, perSession: 80, size: 100);
        }
        foreach (var idx in Directory.GetFiles(dir.Path, "*.idx"))
        {
            File.Delete(idx);
        }

        using var reader = StoreReader.Open(dir.Path);
        Assert.Equal(3, reader.ListSessions().Count);
        using var session = reader.ReadSession(TestRecords.Session(2));
        Assert.Equal(80, session.Count());
        Assert.Empty(reader.Warnings);
    }

    [Fact]
    public async Task IndexThatLies_IsReportedByVerify()
    {
        using var dir = new StoreDirectory();
        await using (var store = SegmentStore.Open(dir.Options(blockBytes: 2048)))
        {
            TestRecords.AppendMany(store, sessions: 2, perSession: 100, size: 100);
        }
        var idxPath = Directory.GetFiles(dir.Path, "*.idx").Single();
        var index = SegmentIndex.TryParse(File.ReadAllBytes(idxPath), 1)!;
        index.Sessions[1].BlockOrdinals.RemoveAt(0); // hide a block of session 1 from show/replay
        File.WriteAllBytes(idxPath, index.Serialize());

        var report = StoreVerifier.Verify(dir.Path);
        Assert.True(report.Intact);
        Assert.Contains(report.IndexProblems, p => p.Contains("does not match its segment", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SecondWriter_IsRefused()
    {
        using var dir = new StoreDirectory();
        await using var store = SegmentStore.Open(dir.Options());
        var error = Assert.Throws<StoreOpenException>(() => SegmentStore.Open(dir.Options()));
        Assert.Contains("another appliance", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TryAppend_TooLarge_IsRefusedWithoutWriting()
    {
        using var dir = new StoreDirectory();
        await using (var store = SegmentStore.Open(dir.Options(maxRecordBytes: 1000, queueBytes: 8192)))
        {
            Assert.Equal(AppendStatus.TooLarge, store.TryAppend(TestRecords.Header(1, 0), new byte[1001], out _));
            Assert.Equal(AppendStatus.Appended, store.TryAppend(TestRecords.Header(1, 0), new byte[1000], out _));
        }
        Assert.Single(dir.ReadAll());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(240)]
    [InlineData(255)]
    public async Task TryAppend_ReservedType_Throws(byte type)
    {
        using var dir = new StoreDirectory();
        await using var store = SegmentStore.Open(dir.Options());
        Assert.Throws<ArgumentOutOfRangeException>(() => store.TryAppend(TestRecords.Header(1, 0, type), [], out _));
    }

    [Fact]
    public async Task Append_AfterDispose_ReturnsClosed()
    {
        using var dir = new StoreDirectory();
        var store = SegmentStore.Open(dir.Options());
        await store.DisposeAsync();
        Assert.Equal(AppendStatus.Closed, store.TryAppend(TestRecords.Header(1, 0), [1], out _));
        Assert.Equal(AppendStatus.Closed, store.Append(TestRecords.Header(1, 0), [1], out _));
    }

    [Fact]
    public async Task EmptyPayloads_RoundTrip()
    {
        using var dir = new StoreDirectory();
        await using (var store = SegmentStore.Open(dir.Options()))
        {
            for (var i = 0; i < 10; i++)
            {
                store.Append(TestRecords.Header(1, i), [], out _);
            }
        }
        var records = dir.ReadAll();
        Assert.Equal(10, records.Count);
        Assert.All(records, r => Assert.Empty(r.Payload));
    }

    [Fact]
    public async Task Linger_RecordsArrivingOneByOne_ShareOneBlock()
    {
        using var dir = new StoreDirectory();
        var options = dir.Options();
        await using (var store = SegmentStore.Open(new StoreOptions { Directory = options.Directory, BlockLinger = TimeSpan.FromHours(1) }))
        {
            for (var i = 0; i < 100; i++)
            {
                store.Append(TestRecords.Header(1, i), TestRecords.Payload(1, i), out _);
                await Task.Yield();
            }
            await store.FlushAsync();
        }
        var block = Assert.Single(StoreLayout.Blocks(dir.Path));
        Assert.Equal(100, block.Records);
    }

    [Fact]
    public async Task Linger_IsCutShortByAnAcknowledgementWaiter()
    {
        using var dir = new StoreDirectory();
        await using var store = SegmentStore.Open(new StoreOptions { Directory = dir.Path, BlockLinger = TimeSpan.FromHours(1), Fsync = FsyncPolicy.Interval });
        store.Append(TestRecords.Header(1, 0), TestRecords.Payload(1, 0), out var address);
        await store.WaitForAcknowledgementAsync(address).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Single(StoreLayout.Blocks(dir.Path));
    }

    [Fact]
    public async Task Linger_WaitsOutItsTime_WithoutSpinning()
    {
        using var dir = new StoreDirectory();
        // A linger of a fractional number of milliseconds leaves a fraction of a millisecond to wait after whole ones.
        await using var store = SegmentStore.Open(new StoreOptions { Directory = dir.Path, BlockLinger = TimeSpan.FromMilliseconds(5.9) });
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        const int Rounds = 10;
        for (var i = 0; i < Rounds; i++)
        {
            store.Append(TestRecords.Header(1, i), TestRecords.Payload(1, i), out _);
            while (store.Statistics.BlocksWritten == i)
            {
                Assert.True(DateTime.UtcNow < deadline, "a lingering block was never sealed");
                await Task.Delay(1); // nothing to wait on: the seal is due by time alone
            }
        }
        // Per block a few passes: woken by the record, one or two lingering waits, the seal. Waits of 0 ms (a
        // fraction rounded down) made it spin on the clock thousands of times.
        Assert.InRange(store.WriterPasses, Rounds, 6 * Rounds);
    }
}

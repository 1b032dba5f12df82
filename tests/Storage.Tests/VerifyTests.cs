using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Appliance.Storage.Tests;

public sealed class VerifyTests
{
    /// <summary>A store of several segments with several blocks each.</summary>
    private static async Task<StoreDirectory> SmallStore(int records = 60)
    {
        var dir = new StoreDirectory();
        await using var store = SegmentStore.Open(dir.Options(segmentMaxBytes: 2048, blockBytes: 1024));
        for (var i = 0; i < records; i++)
        {
            store.Append(TestRecords.Header(i % 3, i / 3), RandomNumberGenerator.GetBytes(90), out _);
            if (i % 4 == 3)
            {
                await store.FlushAsync();
            }
        }
        return dir;
    }

    [Fact]
    public void Verify_EmptyDirectory_IsIntact()
    {
        using var dir = new StoreDirectory();
        var report = StoreVerifier.Verify(dir.Path);
        Assert.True(report.Intact);
        Assert.Equal(0, report.Blocks);
        Assert.Null(report.HeadHash);
    }

    [Fact]
    public async Task Verify_UntouchedStore_IsIntactAndGivesTheHead()
    {
        using var dir = await SmallStore();
        var report = StoreVerifier.Verify(dir.Path);
        var blocks = StoreLayout.Blocks(dir.Path);
        Assert.True(report.Intact, report.Problem);
        Assert.Equal(blocks.Count, report.Blocks);
        Assert.Equal(blocks[^1].BlockNumber, report.HeadBlockNumber);
        var last = File.ReadAllBytes(blocks[^1].Path).AsSpan((int)blocks[^1].Offset, blocks[^1].Length);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(last)), report.HeadHash);
    }

    [Fact]
    public async Task FlippedBit_AnywhereInAnyBlock_IsFoundAndThatBlockNamed()
    {
        using var dir = await SmallStore(36);
        var blocks = StoreLayout.Blocks(dir.Path);
        Assert.True(dir.SegmentFiles().Length >= 3);
        foreach (var segment in dir.SegmentFiles())
        {
            var length = new FileInfo(segment).Length;
            for (long offset = 0; offset < length; offset++)
            {
                var bit = (int)(offset % 8);
                StoreLayout.FlipBit(segment, offset, bit);
                var report = StoreVerifier.Verify(dir.Path);
                StoreLayout.FlipBit(segment, offset, bit);

                var expected = offset < SegmentHeader.Size ? 0 : blocks.Single(b => b.Path == segment && b.Offset <= offset && offset < b.Offset + b.Length).Offset;
                Assert.False(report.Intact, $"flip at {Path.GetFileName(segment)}:{offset} not detected");
                Assert.Equal((segment, expected), (report.Segment, report.Offset));
            }
        }
        Assert.True(StoreVerifier.Verify(dir.Path).Intact);
    }

    [Fact]
    public async Task AlteredBlockWithRecomputedChecksums_IsCaughtByTheNextBlocksHash()
    {
        using var dir = await SmallStore();
        var blocks = StoreLayout.Blocks(dir.Path);
        var victim = blocks[2];
        var next = blocks[3];
        var bytes = File.ReadAllBytes(victim.Path);
        var frame = bytes.AsSpan((int)victim.Offset, victim.Length);
        var payload = frame[BlockFrame.HeaderSize..];
        payload[^1] ^= 0x40;
        BinaryPrimitives.WriteUInt32LittleEndian(frame[20..], Crc32C.Compute(payload));
        BinaryPrimitives.WriteUInt32LittleEndian(frame[84..], Crc32C.Compute(frame[..84]));
        File.WriteAllBytes(victim.Path, bytes);

        var report = StoreVerifier.Verify(dir.Path);
        Assert.False(report.Intact);
        Assert.Equal((next.Path, next.Offset, next.BlockNumber), (report.Segment, report.Offset, report.BlockNumber));
        Assert.Contains("altered", report.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeletedMiddleSegment_IsDetected()
    {
        using var dir = await SmallStore();
        var segments = dir.SegmentFiles();
        File.Delete(segments[1]);
        File.Delete(Path.ChangeExtension(segments[1], ".idx"));

        var report = StoreVerifier.Verify(dir.Path);
        Assert.False(report.Intact);
        Assert.Equal((segments[2], (long)SegmentHeader.Size), (report.Segment, report.Offset));
        Assert.Contains("segment 2 is missing", report.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeletedFirstSegment_WithoutARecord_IsDetected()
    {
        using var dir = await SmallStore();
        var segments = dir.SegmentFiles();
        File.Delete(segments[0]);

        var report = StoreVerifier.Verify(dir.Path);
        Assert.False(report.Intact);
        Assert.Equal((segments[1], (long)SegmentHeader.Size), (report.Segment, report.Offset));
        Assert.Contains("segment 1", report.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SwappedSegments_AreDetected()
    {
        using var dir = await SmallStore();
        var segments = dir.SegmentFiles();
        var temporary = segments[1] + ".swap";
        File.Move(segments[1], temporary);
        File.Move(segments[2], segments[1]);
        File.Move(temporary, segments[2]);

        var report = StoreVerifier.Verify(dir.Path);
        Assert.False(report.Intact);
        Assert.Equal(segments[1], report.Segment);
        Assert.Contains("reordered", report.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RemovedBlock_IsDetectedAtTheBlockAfterIt()
    {
        using var dir = await SmallStore();
        var blocks = StoreLayout.Blocks(dir.Path);
        var bySegment = blocks.GroupBy(b => b.Path).First(g => g.Count() >= 3).ToList();
        var removed = bySegment[1];
        StoreLayout.Cut(removed.Path, removed.Offset, removed.Length);

        var report = StoreVerifier.Verify(dir.Path);
        Assert.False(report.Intact);
        Assert.Equal((removed.Path, removed.Offset), (report.Segment, report.Offset));
        Assert.Contains("removed", report.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MiddleSegmentTruncatedAtABlockBoundary_IsDetected()
    {
        using var dir = await SmallStore();
        var blocks = StoreLayout.Blocks(dir.Path);
        var segments = dir.SegmentFiles();
        var lastOfSecond = blocks.Last(b => b.Path == segments[1]);
        using (var file = new FileStream(segments[1], FileMode.Open))
        {
            file.SetLength(lastOfSecond.Offset);
        }

        var report = StoreVerifier.Verify(dir.Path);
        Assert.False(report.Intact);
        Assert.Equal(segments[2], report.Segment);
    }

    [Fact]
    public async Task MiddleSegmentTruncatedInsideABlock_IsDetected()
    {
        using var dir = await SmallStore();
        var blocks = StoreLayout.Blocks(dir.Path);
        var segments = dir.SegmentFiles();
        var lastOfSecond = blocks.Last(b => b.Path == segments[1]);
        using (var file = new FileStream(segments[1], FileMode.Open))
        {
            file.SetLength(lastOfSecond.Offset + 20);
        }

        var report = StoreVerifier.Verify(dir.Path);
        Assert.False(report.Intact);
        Assert.Equal((segments[1], lastOfSecond.Offset), (report.Segment, report.Offset));
    }

    [Fact]
    public async Task UnfinishedTailOfTheLastSegment_IsAWarningNotTampering()
    {
        using var dir = await SmallStore();
        var last = dir.SegmentFiles()[^1];
        using (var file = new FileStream(last, FileMode.Append))
        {
            file.Write(new byte[40]);
        }

        var report = StoreVerifier.Verify(dir.Path);
        Assert.True(report.Intact, report.Problem);
        Assert.Contains(report.Warnings, w => w.Contains("unfinished block", StringComparison.Ordinal));
    }
}

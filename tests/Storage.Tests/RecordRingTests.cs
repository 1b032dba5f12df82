namespace Appliance.Storage.Tests;

public sealed class RecordRingTests
{
    [Fact]
    public void WriteRead_WrapsAroundManyTimes_WithPadding()
    {
        var ring = new RecordRing(1024);
        var written = 0;
        var read = 0;
        var random = new Random(7);
        for (var round = 0; round < 2000; round++)
        {
            var size = random.Next(0, 200);
            if (ring.TryWrite(TestRecords.Header(1, written), TestRecords.Payload(1, written, size), out _) == RingWrite.Written)
            {
                written++;
            }
            if (round % 3 == 0 || written - read > 4)
            {
                while (ring.TryRead(out var record))
                {
                    var at = 0;
                    Assert.True(RecordLayout.TryRead(record, ref at, out var header, out var offset, out var length));
                    Assert.Equal((ulong)read, header.Sequence);
                    Assert.StartsWith($"session 1 record {read} ", System.Text.Encoding.ASCII.GetString(record.Slice(offset, length)), StringComparison.Ordinal);
                    read++;
                }
                ring.Release();
            }
        }
        Assert.True(read > 500);
        Assert.True(ring.Tail > 10 * 1024, "never wrapped");
    }

    [Fact]
    public void TryWrite_WhenFull_SaysFull_AndAfterReleaseHasRoom()
    {
        var ring = new RecordRing(256);
        var payload = new byte[50]; // 8 + 40 + 50 = 98 → 104 per entry
        Assert.Equal(RingWrite.Written, ring.TryWrite(TestRecords.Header(1, 0), payload, out var end1));
        Assert.Equal(RingWrite.Written, ring.TryWrite(TestRecords.Header(1, 1), payload, out var end2));
        Assert.Equal((104L, 208L), (end1, end2));
        Assert.Equal(RingWrite.Full, ring.TryWrite(TestRecords.Header(1, 2), payload, out _));
        Assert.True(ring.TryRead(out _));
        Assert.Equal(RingWrite.Full, ring.TryWrite(TestRecords.Header(1, 2), payload, out _)); // read but not released
        ring.Release();
        Assert.Equal(RingWrite.Written, ring.TryWrite(TestRecords.Header(1, 2), payload, out _));
    }

    [Fact]
    public void Close_RefusesLaterWrites_AndReturnsTheFinalTail()
    {
        var ring = new RecordRing(1024);
        ring.TryWrite(TestRecords.Header(1, 0), [1, 2, 3], out var end);
        Assert.Equal(end, ring.Close());
        Assert.True(ring.IsClosed);
        Assert.Equal(RingWrite.Closed, ring.TryWrite(TestRecords.Header(1, 1), [], out _));
        Assert.True(ring.TryRead(out _));
        Assert.Equal(end, ring.ReadPosition);
    }

    [Fact]
    public void UnpublishedEntry_IsNotRead()
    {
        var ring = new RecordRing(1024);
        Assert.False(ring.TryRead(out _));
        Assert.False(ring.HasPublished);
        ring.TryWrite(TestRecords.Header(1, 0), [], out _);
        Assert.True(ring.HasPublished);
    }

    [Fact]
    public void TryRead_AfterAWholeLapWithoutRelease_StopsInsteadOfRereading()
    {
        var ring = new RecordRing(256);
        var payload = new byte[16]; // 8 + 40 + 16 = 64: four entries fill the ring exactly
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(RingWrite.Written, ring.TryWrite(TestRecords.Header(1, i), payload, out _));
        }
        for (var i = 0; i < 4; i++)
        {
            Assert.True(ring.TryRead(out _));
        }
        Assert.False(ring.TryRead(out _));
        Assert.False(ring.HasPublished);
        Assert.Equal(ring.Tail, ring.ReadPosition);
    }
}

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
}

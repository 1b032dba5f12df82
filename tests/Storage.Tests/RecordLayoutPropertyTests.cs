using CsCheck;

namespace Appliance.Storage.Tests;

public sealed class RecordLayoutPropertyTests
{
    private static readonly Gen<(RecordHeader Header, byte[] Payload)> s_record =
        Gen.Select(Gen.Byte[1, StoreRecordTypes.MaxApplicationType], Gen.Guid, Gen.ULong, Gen.Long, Gen.Byte.Array[0, 300])
            .Select((type, session, sequence, time, payload) => (new RecordHeader(type, session, sequence, time), payload));

    [Fact]
    public void Records_EncodeThenDecode_RoundTrip()
    {
        s_record.Array[1, 20].Sample(records =>
        {
            var raw = new byte[records.Sum(r => RecordLayout.HeaderSize + r.Payload.Length)];
            var at = 0;
            foreach (var (header, payload) in records)
            {
                RecordLayout.WriteHeader(raw.AsSpan(at), header, payload.Length);
                payload.CopyTo(raw, at + RecordLayout.HeaderSize);
                at += RecordLayout.HeaderSize + payload.Length;
            }
            var position = 0;
            foreach (var (header, payload) in records)
            {
                Assert.True(RecordLayout.TryRead(raw, ref position, out var read, out var offset, out var length));
                Assert.Equal(header, read);
                Assert.Equal(payload, raw.AsSpan(offset, length).ToArray());
            }
            Assert.Equal(raw.Length, position);
        });
    }

    [Fact]
    public void Records_ThroughTheStore_RoundTrip()
    {
        s_record.Array[1, 60].Sample(records =>
        {
            using var dir = new StoreDirectory();
            using (var store = SegmentStore.Open(dir.Options(blockBytes: 2048, segmentMaxBytes: 16 * 1024)))
            {
                foreach (var (header, payload) in records)
                {
                    Assert.Equal(AppendStatus.Appended, store.Append(header, payload, out _));
                }
            }
            var read = dir.ReadAll();
            Assert.Equal(records.Select(r => r.Header), read.Select(r => r.Header));
            Assert.Equal(records.Select(r => r.Payload), read.Select(r => r.Payload));
            Assert.True(StoreVerifier.Verify(dir.Path).Intact);
        }, iter: 40);
    }

    [Fact]
    public void SegmentIndex_SerializeThenParse_RoundTrip()
    {
        s_record.Array[1, 40].Sample(records =>
        {
            var index = new SegmentIndex(3, 100);
            var raw = new byte[records.Sum(r => RecordLayout.HeaderSize + r.Payload.Length)];
            var at = 0;
            foreach (var (header, payload) in records)
            {
                RecordLayout.WriteHeader(raw.AsSpan(at), header, payload.Length);
                payload.CopyTo(raw, at + RecordLayout.HeaderSize);
                at += RecordLayout.HeaderSize + payload.Length;
            }
            var block = new BlockHeader(BlockCodec.Stored, raw.Length, raw.Length, records.Length, 0, 100, 1, 2);
            index.AddBlock(SegmentHeader.Size, block, new byte[32], raw);
            index.AddBlock(SegmentHeader.Size + block.FrameLength, block, Enumerable.Repeat((byte)7, 32).ToArray(), raw);
            var bytes = index.Serialize();
            var parsed = SegmentIndex.TryParse(bytes, 3);
            Assert.NotNull(parsed);
            Assert.Equal(bytes, parsed.Serialize());
            Assert.Null(SegmentIndex.TryParse(bytes, 4));
            bytes[^5] ^= 1;
            Assert.Null(SegmentIndex.TryParse(bytes, 3));
        });
    }
}

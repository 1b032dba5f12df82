using System.Buffers;
using System.Buffers.Binary;
using Appliance.Protocols.Postgres;
using CsCheck;

namespace Appliance.Protocols.Tests.Postgres;

public sealed class PgFrameReaderTests
{
    private static byte[] Frame(byte type, byte[] payload)
    {
        var bytes = new byte[5 + payload.Length];
        bytes[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), payload.Length + 4);
        payload.CopyTo(bytes, 5);
        return bytes;
    }

    private static readonly byte[] s_query = Frame((byte)'Q', "select 1;\0"u8.ToArray());
    private static readonly byte[] s_sync = Frame((byte)'S', []);

    [Fact]
    public void TryRead_TwoFramesAnySegmentation_ReadsBothExactly()
    {
        var bytes = s_query.Concat(s_sync).ToArray();
        foreach (var (name, seq) in Segments.Variants(bytes))
        {
            var reader = new SequenceReader<byte>(seq);
            Assert.True(PgFrameReader.TryRead(ref reader, 1024, out var q) == OperationStatus.Done, name);
            Assert.Equal((byte)'Q', q.Type);
            Assert.Equal("select 1;\0"u8.ToArray(), q.Payload.ToArray());
            Assert.Equal(s_query.Length, q.WireLength);
            Assert.True(PgFrameReader.TryRead(ref reader, 1024, out var s) == OperationStatus.Done, name);
            Assert.Equal((byte)'S', s.Type);
            Assert.Equal(0, s.Payload.Length);
            Assert.True(reader.End, name);
            Assert.Equal(OperationStatus.NeedMoreData, PgFrameReader.TryRead(ref reader, 1024, out _));
        }
    }

    [Fact]
    public void TryRead_EveryPrefix_NeedsMoreDataAndDoesNotAdvance()
    {
        for (int n = 0; n < s_query.Length; n++)
        {
            foreach (var (name, seq) in Segments.Variants(s_query[..n]))
            {
                var reader = new SequenceReader<byte>(seq);
                Assert.True(PgFrameReader.TryRead(ref reader, 1024, out _) == OperationStatus.NeedMoreData, $"{n} {name}");
                Assert.Equal(0, reader.Consumed);
            }
        }
    }

    [Theory]
    [InlineData(3)]
    [InlineData(-1)]
    [InlineData(1025)]
    [InlineData(int.MaxValue)]
    public void TryRead_LengthOutOfBounds_InvalidDataWithoutAdvancing(int length)
    {
        var bytes = new byte[9];
        bytes[0] = (byte)'Q';
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), length);
        foreach (var (name, seq) in Segments.Variants(bytes))
        {
            var reader = new SequenceReader<byte>(seq);
            Assert.True(PgFrameReader.TryRead(ref reader, 1024, out var frame) == OperationStatus.InvalidData, name);
            Assert.Equal(length, frame.Length);
            Assert.Equal((byte)'Q', frame.Type);
            Assert.Equal(0, reader.Consumed);
        }
    }

    [Fact]
    public void TryRead_ArbitraryFrames_RoundTripUnderRandomSplits()
    {
        var gen = Gen.Select(Gen.Byte[1, 255], Gen.Byte.Array[0, 300]).Array[1, 8]
            .Select(Gen.Int[0, 10_000].Array[0, 6], (frames, cuts) => (frames, cuts));
        gen.Sample(t =>
        {
            var bytes = t.frames.SelectMany(f => Frame(f.Item1, f.Item2)).ToArray();
            var reader = new SequenceReader<byte>(Segments.Split(bytes, t.cuts.Select(c => c % (bytes.Length + 1)).ToArray()));
            foreach (var (type, payload) in t.frames)
            {
                if (PgFrameReader.TryRead(ref reader, 1 << 20, out var frame) != OperationStatus.Done) return false;
                if (frame.Type != type || !frame.Payload.ToArray().AsSpan().SequenceEqual(payload)) return false;
            }
            return reader.End;
        });
    }
}

using System.Buffers;
using System.Buffers.Binary;
using Appliance.Postgres;
using Appliance.Protocols.Postgres;
using Appliance.Tests.Recording;

namespace Appliance.Tests.Postgres;

/// <summary>
/// The relay's framing (<see cref="PgFrameStream"/>) fed as the pump feeds it: whatever a read left unconsumed
/// comes again with the next bytes. Copied output plus the uncopied tail must be the transformed stream, for
/// every way of splitting the input into two reads.
/// </summary>
public sealed class PgFrameStreamTests
{
    /// <summary>Drops 'D' messages, replaces 'R' messages with "r", forwards the rest; 'B' (big) streams.</summary>
    private struct Rewriter : IPgFrameInspector
    {
        public readonly bool NeedsWhole(byte type) => type != (byte)'B';

        public readonly PgFrameAction Inspect(in PgFrame frame)
        {
            // The payload, whether handed over in one piece or as a sequence, is the message's own bytes.
            var payload = frame.Payload.ToArray();
            Assert.Equal(frame.Length - 4, payload.Length);
            for (int i = 0; i < payload.Length; i++)
            {
                Assert.Equal((byte)(frame.Type + 5 + i), payload[i]);
            }
            if (frame.TryGetPayloadSpan(out var span))
            {
                Assert.True(span.SequenceEqual(payload));
            }
            return Decide(frame.Type);
        }

        private static PgFrameAction Decide(byte type) => type switch
        {
            (byte)'D' => PgFrameAction.Drop,
            (byte)'R' => PgFrameAction.Replace,
            _ => PgFrameAction.Forward,
        };

        public readonly void WriteReplacement(in PgFrame frame, IBufferWriter<byte> output) => output.Write(Message((byte)'r', 3));
    }

    private static byte[] Message(byte type, int payload)
    {
        var bytes = new byte[5 + payload];
        bytes[0] = type;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(1), payload + 4);
        for (int i = 5; i < bytes.Length; i++) bytes[i] = (byte)(type + i);
        return bytes;
    }

    private static readonly byte[][] s_messages =
    [
        Message((byte)'Q', 20), Message((byte)'D', 7), Message((byte)'Q', 0), Message((byte)'R', 12),
        Message((byte)'B', 70_000), Message((byte)'Q', 9), Message((byte)'R', 1), Message((byte)'D', 3), Message((byte)'Q', 4),
    ];

    private static byte[] Expected() => [.. s_messages.Where(m => m[0] != 'D').SelectMany(m => m[0] == 'R' ? Message((byte)'r', 3) : m)];

    /// <summary>Feeds <paramref name="input"/> in reads ending at <paramref name="cuts"/>; returns what would be sent.</summary>
    private static byte[] Relay(byte[] input, params int[] cuts)
    {
        var frames = new PgFrameStream();
        var sent = new List<byte>();
        var output = new ArrayBufferWriter<byte>();
        var inspector = new Rewriter();
        int start = 0;
        foreach (int end in cuts.Append(input.Length))
        {
            var unread = new ReadOnlySequence<byte>(input, start, end - start);
            var status = frames.Forward(ref inspector, unread, output, 1 << 20, out var consumed, out long tail, out bool stop, out var error);
            Assert.NotEqual(OperationStatus.InvalidData, status);
            Assert.False(stop);
            int consumedEnd = start + (int)consumed;
            sent.AddRange(output.WrittenSpan.ToArray());
            sent.AddRange(input.AsSpan(consumedEnd - (int)tail, (int)tail).ToArray());
            output.ResetWrittenCount();
            start = consumedEnd;
        }
        Assert.Equal(input.Length, start);
        Assert.True(frames.AtMessageBoundary);
        return [.. sent];
    }

    [Fact]
    public void Forward_InOneRead_CopiesOnlyWhatComesBeforeTheLastChange()
    {
        var input = s_messages.SelectMany(m => m).ToArray();
        Assert.Equal(Expected(), Relay(input));
    }

    [Fact]
    public void Forward_SplitAtEveryOffset_GivesTheSameStream()
    {
        var input = s_messages.SelectMany(m => m).ToArray();
        var expected = Expected();
        // Every offset around the small messages, and a stride through the large one that streams.
        var offsets = Enumerable.Range(1, input.Length - 1).Where(i => i < 80 || i > input.Length - 80 || i % 997 == 0);
        foreach (int cut in offsets)
        {
            Assert.Equal(expected, Relay(input, cut));
        }
    }

    [Fact]
    public void Forward_LargeMessageInManyReads_StreamsEveryByteOnce()
    {
        var input = s_messages.SelectMany(m => m).ToArray();
        var cuts = Enumerable.Range(1, input.Length / 4096).Select(i => i * 4096).ToArray();
        Assert.Equal(Expected(), Relay(input, cuts));
    }
    [Fact]
    public void Forward_MultiSegmentBuffer_ReadsHeadersAcrossSegments()
    {
        var input = s_messages.SelectMany(m => m).ToArray();
        var buffer = Segmented(input, 3);
        var output = new ArrayBufferWriter<byte>();
        var inspector = new Rewriter();
        var status = new PgFrameStream().Forward(ref inspector, buffer, output, 1 << 20, out long consumed, out long tail, out _, out _);
        Assert.Equal(OperationStatus.NeedMoreData, status);
        Assert.Equal(input.Length, consumed);
        Assert.Equal(Expected(), output.WrittenSpan.ToArray().Concat(buffer.Slice(consumed - tail, tail).ToArray()));
    }

    private static ReadOnlySequence<byte> Segmented(byte[] bytes, int size)
    {
        var first = new RowSegment(bytes.AsMemory(0, size), null);
        var last = first;
        for (int i = size; i < bytes.Length; i += size)
        {
            last = new RowSegment(bytes.AsMemory(i, Math.Min(size, bytes.Length - i)), last);
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}

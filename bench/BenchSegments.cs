using System.Buffers;

namespace Appliance.Bench;

/// <summary>Splits a buffer into fixed-size segments, as a socket read loop would hand it over.</summary>
internal static class BenchSegments
{
    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, Segment? previous)
        {
            Memory = memory;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }

    public static ReadOnlySequence<byte> Split(byte[] bytes, int segmentSize)
    {
        Segment first = new(bytes.AsMemory(0, Math.Min(segmentSize, bytes.Length)), null), last = first;
        for (int start = segmentSize; start < bytes.Length; start += segmentSize)
        {
            last = new Segment(bytes.AsMemory(start, Math.Min(segmentSize, bytes.Length - start)), last);
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}

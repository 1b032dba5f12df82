using System.Buffers;

namespace Appliance.Protocols.Tests;

/// <summary>Builds multi-segment sequences so parsers are tested on every way the bytes can arrive.</summary>
internal static class Segments
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

    /// <summary>The bytes split at the given offsets.</summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, params int[] offsets)
    {
        var cuts = offsets.Where(o => o > 0 && o < bytes.Length).Distinct().Order().Append(bytes.Length).ToArray();
        // Copy each piece so a parser cannot read past its segment by accident.
        Segment first = new(bytes.AsSpan(0, cuts[0]).ToArray(), null), last = first;
        for (int i = 1; i < cuts.Length; i++)
        {
            last = new Segment(bytes.AsSpan(cuts[i - 1], cuts[i] - cuts[i - 1]).ToArray(), last);
        }
        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Whole, split at every offset, and one byte per segment.</summary>
    public static IEnumerable<(string Name, ReadOnlySequence<byte> Sequence)> Variants(byte[] bytes)
    {
        yield return ("whole", new ReadOnlySequence<byte>(bytes));
        for (int i = 1; i < bytes.Length; i++)
        {
            yield return ($"split@{i}", Split(bytes, i));
        }
        yield return ("bytewise", Split(bytes, Enumerable.Range(1, Math.Max(0, bytes.Length - 1)).ToArray()));
    }
}

using System.Buffers;

namespace Appliance.Tests.Recording;

/// <summary>A buffer segment, to hand code (the recorder, the relay's framing) bytes split as a socket read loop would.</summary>
internal sealed class RowSegment : ReadOnlySequenceSegment<byte>
{
    public RowSegment(ReadOnlyMemory<byte> memory, RowSegment? previous)
    {
        Memory = memory;
        if (previous is not null)
        {
            RunningIndex = previous.RunningIndex + previous.Memory.Length;
            previous.Next = this;
        }
    }
}

using System.Buffers;
using Appliance.Protocols.Postgres;

namespace Appliance.Postgres;

/// <summary>
/// Forwards whole messages from one side to the other as their original bytes, a run of complete
/// messages at a time. A message too long to hold (COPY data, large rows) streams through once its
/// header is seen. This is the place where later stages inspect and rewrite individual messages.
/// </summary>
internal sealed class PgFrameStream(bool fromClient)
{
    /// <summary>Messages at or above this size stream through instead of waiting to be whole.</summary>
    private const int StreamThreshold = 64 * 1024;

    private long _streaming;

    public bool AtMessageBoundary => _streaming == 0;

    public long BytesForwarded { get; private set; }

    /// <summary>
    /// Copies every complete message of <paramref name="buffer"/> to <paramref name="output"/>.
    /// <paramref name="terminated"/> becomes true after a Terminate message, which is forwarded last.
    /// </summary>
    public OperationStatus Forward(ReadOnlySequence<byte> buffer, IBufferWriter<byte> output, int maxLength, ref bool terminated, out SequencePosition consumed, out string? error)
    {
        error = null;
        var reader = new SequenceReader<byte>(buffer);
        if (_streaming > 0)
        {
            long n = Math.Min(_streaming, reader.Remaining);
            Copy(buffer.Slice(0, n), output);
            reader.Advance(n);
            _streaming -= n;
            if (_streaming > 0)
            {
                consumed = reader.Position;
                return OperationStatus.NeedMoreData;
            }
        }
        var runStart = reader.Position;
        long runLength = 0;
        var status = OperationStatus.NeedMoreData;
        while (!terminated)
        {
            var header = PgFrameReader.TryReadHeader(ref reader, maxLength, out byte type, out int length);
            if (header == OperationStatus.InvalidData)
            {
                error = $"invalid length {length} for message type '{PgConnection.Printable(type)}'";
                status = OperationStatus.InvalidData;
                break;
            }
            if (header == OperationStatus.NeedMoreData)
            {
                break;
            }
            long wire = (long)length + 1;
            if (reader.Remaining < wire)
            {
                if (wire >= StreamThreshold)
                {
                    // Forward what has arrived of a long message and let the rest follow as it comes.
                    long available = reader.Remaining;
                    runLength += available;
                    reader.Advance(available);
                    _streaming = wire - available;
                }
                break;
            }
            reader.Advance(wire);
            runLength += wire;
            if (fromClient && type == PgFrontend.Terminate)
            {
                terminated = true;
            }
        }
        if (runLength > 0)
        {
            Copy(buffer.Slice(runStart, runLength), output);
        }
        consumed = reader.Position;
        return status;
    }

    private void Copy(ReadOnlySequence<byte> bytes, IBufferWriter<byte> output)
    {
        BytesForwarded += bytes.Length;
        if (bytes.IsSingleSegment)
        {
            output.Write(bytes.FirstSpan);
            return;
        }
        foreach (var segment in bytes)
        {
            output.Write(segment.Span);
        }
    }
}

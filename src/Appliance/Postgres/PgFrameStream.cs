using System.Buffers;
using System.Buffers.Binary;
using Appliance.Protocols.Postgres;

namespace Appliance.Postgres;

/// <summary>What an inspector wants done with one whole message.</summary>
internal enum PgFrameAction : byte
{
    /// <summary>Pass the original bytes on.</summary>
    Forward,
    /// <summary>Pass nothing on.</summary>
    Drop,
    /// <summary>Pass on what <see cref="IPgFrameInspector.WriteReplacement"/> writes instead.</summary>
    Replace,
    /// <summary>Pass the original bytes on, then stop reading this side.</summary>
    ForwardAndStop,
    /// <summary>A message that must not be passed on and ends the session (protocol violation).</summary>
    Fail,
    /// <summary>
    /// Pass nothing on yet and stop before this message: the relay waits for <see cref="IPgFrameInspector.WaitHeldAsync"/>,
    /// then inspects the same message again (messages after it wait, in order). Approvals hold a statement this
    /// way; masking holds a message until the catalog it needs is read.
    /// </summary>
    Hold,
}

/// <summary>Decides per message; implemented by structs so the relay loop is specialised, not dispatched.</summary>
internal interface IPgFrameInspector
{
    /// <summary>False lets a long message of this type stream through before it is whole.</summary>
    bool NeedsWhole(byte type);

    PgFrameAction Inspect(in PgFrame frame);

    void WriteReplacement(in PgFrame frame, IBufferWriter<byte> output);

    /// <summary>After <see cref="PgFrameAction.Hold"/>: completes when the held message may be inspected again; a non-null result is an error that ends the session.</summary>
    ValueTask<string?> WaitHeldAsync() => ValueTask.FromResult<string?>(null);
}

/// <summary>
/// Forwards messages from one side to the other as their original bytes, a run of unchanged messages
/// per copy. Messages the inspector does not need whole stream through once their header is seen, so a
/// large row or COPY chunk is never held in full.
/// </summary>
internal sealed class PgFrameStream
{
    /// <summary>Messages at or above this size stream through when the inspector allows it.</summary>
    private const int StreamThreshold = 64 * 1024;

    private long _streaming;

    public bool AtMessageBoundary => _streaming == 0;

    /// <summary>The last <see cref="Forward"/> stopped before a message the inspector holds.</summary>
    public bool Held { get; private set; }

    public long BytesForwarded { get; private set; }

    /// <summary>
    /// Handles every complete message of <paramref name="buffer"/>. Returns <see cref="OperationStatus.InvalidData"/>
    /// with <paramref name="error"/> on a bad length or a message the inspector fails; <paramref name="stop"/>
    /// is set after a message the inspector forwards last. The last run of unchanged bytes is not copied:
    /// it is the <paramref name="tail"/> bytes of <paramref name="buffer"/> that end at <paramref name="consumed"/> (bytes from its start),
    /// to be passed on after what <paramref name="output"/> holds (most reads are one such run, sent as they are).
    /// </summary>
    public OperationStatus Forward<TInspector>(ref TInspector inspector, ReadOnlySequence<byte> buffer, IBufferWriter<byte> output, int maxLength,
        out long consumed, out long tail, out bool stop, out string? error)
        where TInspector : struct, IPgFrameInspector
    {
        error = null;
        stop = false;
        Held = false;
        // Offsets into the buffer rather than a SequenceReader: the relay's buffer is one array, so headers
        // are read straight from its span (a header across segments is copied out first).
        long total = buffer.Length;
        var firstMemory = buffer.First;
        var first = firstMemory.Span;
        long offset = 0;
        long runStart = 0;
        long runLength = 0;
        if (_streaming > 0)
        {
            // The rest of a message streaming through starts the run.
            long n = Math.Min(_streaming, total);
            offset = n;
            runLength = n;
            _streaming -= n;
            if (_streaming > 0)
            {
                BytesForwarded += n;
                tail = n;
                consumed = offset;
                return OperationStatus.NeedMoreData;
            }
        }
        var status = OperationStatus.NeedMoreData;
        Span<byte> header = stackalloc byte[PgFrameReader.HeaderLength];
        while (!stop)
        {
            long remaining = total - offset;
            if (remaining < PgFrameReader.HeaderLength)
            {
                break;
            }
            byte type;
            int length;
            if (offset + PgFrameReader.HeaderLength <= first.Length)
            {
                type = first[(int)offset];
                length = BinaryPrimitives.ReadInt32BigEndian(first.Slice((int)offset + 1));
            }
            else
            {
                buffer.Slice(offset, PgFrameReader.HeaderLength).CopyTo(header);
                type = header[0];
                length = BinaryPrimitives.ReadInt32BigEndian(header[1..]);
            }
            if (length < 4 || length > maxLength)
            {
                error = $"invalid length {length} for message type '{PgConnection.Printable(type)}'";
                status = OperationStatus.InvalidData;
                break;
            }
            long wire = (long)length + 1;
            if (remaining < wire)
            {
                if (wire >= StreamThreshold && !inspector.NeedsWhole(type))
                {
                    runLength += remaining;
                    offset = total;
                    _streaming = wire - remaining;
                }
                break;
            }
            long payloadStart = offset + PgFrameReader.HeaderLength;
            var frame = payloadStart + length - 4 <= firstMemory.Length
                ? new PgFrame(type, length, firstMemory.Slice((int)payloadStart, length - 4))
                : new PgFrame(type, length, buffer.Slice(payloadStart, length - 4));
            offset += wire;
            switch (inspector.Inspect(in frame))
            {
                case PgFrameAction.Forward:
                    runLength += wire;
                    break;
                case PgFrameAction.ForwardAndStop:
                    runLength += wire;
                    stop = true;
                    break;
                case PgFrameAction.Drop:
                    CopyRun(buffer, runStart, runLength, output);
                    runStart = offset;
                    runLength = 0;
                    break;
                case PgFrameAction.Replace:
                    CopyRun(buffer, runStart, runLength, output);
                    inspector.WriteReplacement(in frame, output);
                    runStart = offset;
                    runLength = 0;
                    break;
                case PgFrameAction.Hold:
                    offset -= wire;
                    Held = true;
                    stop = true;
                    break;
                default:
                    error = $"unexpected message type '{PgConnection.Printable(type)}'";
                    status = OperationStatus.InvalidData;
                    offset -= wire;
                    stop = true;
                    break;
            }
        }
        BytesForwarded += runLength;
        tail = runLength;
        consumed = offset;
        return status;
    }

    private void CopyRun(ReadOnlySequence<byte> buffer, long start, long length, IBufferWriter<byte> output)
    {
        if (length > 0)
        {
            Copy(buffer.Slice(start, length), output);
        }
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

using System.Buffers;
using System.Buffers.Binary;
using Appliance.Net;
using Appliance.Protocols.Postgres;

namespace Appliance.Postgres;

/// <summary>
/// One direction of a session's relay: reads from a stream into its own buffer, lets <see cref="PgFrameStream"/>
/// decide per message, and writes the result with one write per read. Socket reads and writes go straight to
/// the stream (no pipe in between) and take no cancellation token: the session stops a pump by shutting the
/// socket down, which ends the pending read. On the epoll transport the common case (a read, unchanged or
/// rewritten messages, a write that completes at once) runs on the loop thread (<see cref="InlineRelay{TInspector}"/>);
/// <see cref="RunAsync"/> carries what needs waiting.
/// </summary>
internal sealed class PgRelayPump : IDisposable
{
    private const int InitialSize = 8 * 1024;
    private const int ShrinkAbove = 256 * 1024;

    private readonly PgFrameStream _frames = new();
    private readonly RelayOutput _output = new();
    private byte[] _buffer;
    private int _start;
    private int _end;

    /// <param name="pending">Bytes already read from the source during login, to be relayed first.</param>
    public PgRelayPump(ReadOnlySequence<byte> pending)
    {
        _buffer = ArrayPool<byte>.Shared.Rent(Math.Max(InitialSize, (int)pending.Length));
        pending.CopyTo(_buffer);
        _end = (int)pending.Length;
    }

    /// <summary>True when no message is half-forwarded, so the gateway may write its own message.</summary>
    public bool AtMessageBoundary => _frames.AtMessageBoundary && _start == _end;

    public long BytesForwarded => _frames.BytesForwarded;

    /// <summary>Runs until the source ends or the inspector stops; returns a protocol error to report, or null.</summary>
    /// <param name="writer">When set, writes go through it, so the session can put its own messages between relayed ones.</param>
    public async Task<string?> RunAsync<TInspector>(Stream source, Stream destination, TInspector inspector, int maxLength, PgClientWriter? writer = null)
        where TInspector : struct, IPgFrameInspector
    {
        var inline = source is EpollSocketStream epoll ? new InlineRelay<TInspector>(this, epoll, destination, inspector, maxLength, writer) : null;
        while (true)
        {
            if (_carried is not null || _end > _start)
            {
                ValueTask write;
                Step step;
                if (_carried is { } carried)
                {
                    // Handled on the loop thread up to here; the rest needs this method.
                    (write, step) = carried;
                    _carried = null;
                }
                else
                {
                    write = Process(ref inspector, destination, maxLength, writer, out step);
                }
                await write;
                _output.ResetIfUsed();
                if (step.Status == OperationStatus.InvalidData)
                {
                    return step.Error;
                }
                if (step.Stop && _frames.Held)
                {
                    var (open, failure) = await HoldAsync(source, inspector, maxLength);
                    if (failure is not null)
                    {
                        return failure;
                    }
                    if (!open)
                    {
                        // The client left: nothing from the held message on was passed on, so the destination
                        // is at a message boundary (the session can end it cleanly).
                        _start = _end;
                        return null;
                    }
                    continue;
                }
                if (step.Stop)
                {
                    return null;
                }
            }
            if (_pendingRead is { } pending)
            {
                // The zero-byte read started while a message was held: one read at a time on a stream.
                _pendingRead = null;
                await pending;
            }
            else if (_start == _end)
            {
                // Nothing unread: wait for data without holding a buffer, so an idle session holds none. On the
                // epoll transport, what arrives meanwhile is relayed on the loop thread by the inline relay; this
                // method carries on only when that needs it (a write that waits, a held message, the end).
                // Elsewhere it is a zero-byte read; on Linux that costs no extra system call: the speculative
                // receive that finds the socket empty happens either way, and the completion after epoll reads nothing.
                ReleaseBuffer();
                if (inline is not null)
                {
                    _ = await inline.WaitAsync();
                    if (_carried is not null)
                    {
                        continue;
                    }
                }
                else
                {
                    _ = await source.ReadAsync(Memory<byte>.Empty);
                }
            }
            MakeRoom(maxLength);
            int read = await source.ReadAsync(_buffer.AsMemory(_end));
            if (read == 0)
            {
                return _frames.AtMessageBoundary && _start == _end ? null : "connection closed in the middle of a message";
            }
            _end += read;
        }
    }

    /// <summary>What one pass over the unread bytes ended with.</summary>
    private struct Step
    {
        public OperationStatus Status;
        public bool Stop;
        public string? Error;
    }

    /// <summary>What the inline relay handed over: the write it started and how its pass ended.</summary>
    private (ValueTask Write, Step Step)? _carried;

    /// <summary>
    /// Forwards the complete messages among the unread bytes and starts writing the result: unchanged bytes go out
    /// from the read buffer itself; only a read with replaced or dropped messages is assembled in the output buffer.
    /// Neither buffer may be touched until the returned write is done.
    /// </summary>
    private ValueTask Process<TInspector>(ref TInspector inspector, Stream destination, int maxLength, PgClientWriter? writer, out Step step)
        where TInspector : struct, IPgFrameInspector
    {
        var unread = new ReadOnlySequence<byte>(_buffer, _start, _end - _start);
        step.Status = _frames.Forward(ref inspector, unread, _output, maxLength, out var consumed, out long tail, out step.Stop, out step.Error);
        int end = _start + (int)consumed;
        ReadOnlyMemory<byte> unchanged = _buffer.AsMemory(end - (int)tail, (int)tail);
        _start = end;
        if (_output.WrittenCount > 0)
        {
            _output.Write(unchanged.Span);
            unchanged = _output.WrittenMemory;
        }
        if (unchanged.IsEmpty)
        {
            return default;
        }
        return writer is null ? destination.WriteAsync(unchanged) : writer.WriteRelayedAsync(unchanged, _frames.AtMessageBoundary);
    }

    /// <summary>
    /// The relay of one direction while its pump waits for data on the epoll transport: on the loop thread, each
    /// read is forwarded and written there and then, as long as the write completes at once and the inspector
    /// neither stops nor holds; anything else is handed to <see cref="RunAsync"/> with the write it started.
    /// </summary>
    private sealed class InlineRelay<TInspector>(PgRelayPump pump, EpollSocketStream source, Stream destination, TInspector inspector, int maxLength, PgClientWriter? writer)
        : IEpollReadable
        where TInspector : struct, IPgFrameInspector
    {
        private TInspector _inspector = inspector;

        /// <summary>Waits for data, relaying it meanwhile (see <see cref="EpollSocketStream.WaitReadableAsync"/>).</summary>
        public ValueTask<int> WaitAsync() => source.WaitReadableAsync(this);

        public bool OnReadable()
        {
            while (true)
            {
                pump.MakeRoom(maxLength);
                int asked = pump._buffer.Length - pump._end;
                int read = source.ReceiveNow(pump._buffer.AsSpan(pump._end));
                if (read == 0)
                {
                    // End of stream: RunAsync reads it again and ends.
                    return false;
                }
                if (read > 0)
                {
                    pump._end += read;
                    var write = pump.Process(ref _inspector, destination, maxLength, writer, out var step);
                    if (!write.IsCompletedSuccessfully || step.Stop || step.Status == OperationStatus.InvalidData)
                    {
                        pump._carried = (write, step);
                        return false;
                    }
                    write.GetAwaiter().GetResult();
                    pump._output.ResetIfUsed();
                    if (read == asked)
                    {
                        // The read filled the buffer: more may be waiting.
                        continue;
                    }
                }
                // Would block, or a short read emptied the socket: the next edge brings more. Only a partial message keeps a buffer.
                if (pump._start == pump._end)
                {
                    pump.ReleaseBuffer();
                }
                return true;
            }
        }
    }

    /// <summary>Unread bytes a held session keeps reading, so it notices the client leaving; beyond this it stops reading.</summary>
    private const int HeldReadLimit = 64 * 1024;

    /// <summary>A zero-byte read started while a message was held (it pins no buffer); the loop awaits it before reading.</summary>
    private Task<int>? _pendingRead;

    /// <summary>
    /// Waits for the inspector to release a held message. Meanwhile the buffer shrinks to the unread bytes and a
    /// zero-byte read stays open on the source, so a client that goes away is noticed (Open false: the source ended);
    /// bytes that arrive are kept after the held message, unread, up to <see cref="HeldReadLimit"/>.
    /// No thread, no timer, no polling: two awaited tasks. Failure is the inspector's error, if any.
    /// </summary>
    private async Task<(bool Open, string? Failure)> HoldAsync<TInspector>(Stream source, TInspector inspector, int maxLength)
        where TInspector : struct, IPgFrameInspector
    {
        var released = inspector.WaitHeldAsync();
        if (released.IsCompleted)
        {
            return (true, await released);
        }
        ShrinkToUnread();
        var wait = released.AsTask();
        while (_end - _start < HeldReadLimit)
        {
            _pendingRead ??= source.ReadAsync(Memory<byte>.Empty).AsTask();
            if (await Task.WhenAny(wait, _pendingRead) == wait)
            {
                break;
            }
            await _pendingRead;
            _pendingRead = null;
            MakeRoom(maxLength);
            int got = await source.ReadAsync(_buffer.AsMemory(_end));
            if (got == 0)
            {
                return (false, null);
            }
            _end += got;
        }
        return (true, await wait);
    }

    /// <summary>Keeps only the unread bytes, in a buffer their size: a held session should cost next to nothing.</summary>
    private void ShrinkToUnread()
    {
        int unread = _end - _start;
        if (_buffer.Length <= Math.Max(2 * unread, 256))
        {
            return;
        }
        var small = ArrayPool<byte>.Shared.Rent(unread);
        Buffer.BlockCopy(_buffer, _start, small, 0, unread);
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = small;
        _start = 0;
        _end = unread;
    }

    private void ReleaseBuffer()
    {
        _start = _end = 0;
        if (_buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = [];
        }
    }

    /// <summary>Compacts the unread bytes to the front and grows the buffer when a whole message needs more.</summary>
    private void MakeRoom(int maxLength)
    {
        int unread = _end - _start;
        if (unread == 0)
        {
            _start = _end = 0;
            if (_buffer.Length == 0 || _buffer.Length > ShrinkAbove)
            {
                if (_buffer.Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(_buffer);
                }
                _buffer = ArrayPool<byte>.Shared.Rent(InitialSize);
            }
            return;
        }
        int needed = unread >= PgFrameReader.HeaderLength
            ? (int)Math.Min((long)BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(_start + 1)) + 1, (long)maxLength + 1)
            : PgFrameReader.HeaderLength;
        if (_start > 0 && (_end == _buffer.Length || _buffer.Length - _start < needed))
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, unread);
            _start = 0;
            _end = unread;
        }
        if (_end == _buffer.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, Math.Max(needed, InitialSize)));
            Buffer.BlockCopy(_buffer, _start, larger, 0, unread);
            ArrayPool<byte>.Shared.Return(_buffer);
            _buffer = larger;
            _start = 0;
            _end = unread;
        }
    }

    public void Dispose()
    {
        ReleaseBuffer();
        _output.Dispose();
    }

    /// <summary>A pooled, reusable buffer writer for what one read turns into.</summary>
    private sealed class RelayOutput : IBufferWriter<byte>, IDisposable
    {
        // Rented on first write and returned once written out, so an idle session holds none.
        private byte[] _buffer = [];

        public int WrittenCount { get; private set; }

        public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, WrittenCount);

        /// <summary>Once written out: forgets the bytes and returns the buffer.</summary>
        public void ResetIfUsed()
        {
            if (WrittenCount > 0)
            {
                WrittenCount = 0;
                Dispose();
            }
        }

        public void Advance(int count) => WrittenCount += count;

        public Memory<byte> GetMemory(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsMemory(WrittenCount);
        }

        public Span<byte> GetSpan(int sizeHint = 0)
        {
            Ensure(sizeHint);
            return _buffer.AsSpan(WrittenCount);
        }

        private void Ensure(int sizeHint)
        {
            int needed = WrittenCount + Math.Max(sizeHint, 1);
            if (needed > _buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(_buffer.Length * 2, InitialSize)));
                Buffer.BlockCopy(_buffer, 0, larger, 0, WrittenCount);
                if (_buffer.Length > 0)
                {
                    ArrayPool<byte>.Shared.Return(_buffer);
                }
                _buffer = larger;
            }
        }

        public void Dispose()
        {
            if (_buffer.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = [];
            }
        }
    }
}

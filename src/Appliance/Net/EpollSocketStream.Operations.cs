using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace Appliance.Net;

internal sealed partial class EpollSocketStream
{
    /// <summary>
    /// One direction's readiness and its single pending operation. The loop counts readiness edges in
    /// <see cref="_seq"/>; an operation that finds the socket not ready records the count it saw in
    /// <see cref="_blockedSeq"/> and parks. Parking publishes <see cref="_parked"/> and then re-reads the count,
    /// while the loop bumps the count and then takes <see cref="_parked"/>: either the parker sees the new edge or
    /// the loop sees the parked operation, so no wake-up is lost. Whoever takes <see cref="_parked"/> from 1 to 0
    /// (the loop, a cancellation, disposal) owns the operation and completes it.
    /// </summary>
    private abstract class Operation : IValueTaskSource<int>, IValueTaskSource
    {
        private static readonly Action<object?, CancellationToken> s_onCanceled = static (state, token) => ((Operation)state!).OnCanceled(token);

        protected readonly EpollSocketStream _owner;
        private ManualResetValueTaskSourceCore<int> _core;
        private int _seq;
        private int _parked;
        private CancellationToken _cancelToken;
        private CancellationTokenRegistration _cancelRegistration;

        protected Operation(EpollSocketStream owner, bool blocked)
        {
            _owner = owner;
            // -1 (never a count): worth trying at once; 0 (the count before any edge): wait for the first edge.
            BlockedSeq = blocked ? 0 : -1;
        }

        /// <summary>The edge count as of which the socket would block in this direction; any other value: worth a try.</summary>
        protected int BlockedSeq { get; set; }

        protected int Seq => Volatile.Read(ref _seq);

        protected short Version => _core.Version;

        /// <summary>Loop thread: an edge in this direction.</summary>
        public void OnReady()
        {
            Interlocked.Increment(ref _seq);
            if (Volatile.Read(ref _parked) != 0 && Interlocked.Exchange(ref _parked, 0) == 1)
            {
                Resume();
            }
        }

        /// <summary>Loop thread, owning the parked operation: performs it, then <see cref="Finish(int)"/> or <see cref="Repark"/>.</summary>
        protected abstract void Resume();

        /// <summary>Releases what the parked operation holds (its buffer) before it completes.</summary>
        protected abstract void Clear();

        /// <summary>Parks the operation until the count moves past <paramref name="seq"/>; false: it moved already (or
        /// <paramref name="ct"/> is canceled), try again.</summary>
        protected bool TryPark(int seq, CancellationToken ct)
        {
            _core.Reset();
            if (ct.CanBeCanceled)
            {
                _cancelToken = ct;
                _cancelRegistration = ct.UnsafeRegister(s_onCanceled, this);
            }
            Interlocked.Exchange(ref _parked, 1);
            if ((Volatile.Read(ref _seq) == seq && !ct.IsCancellationRequested) || Interlocked.CompareExchange(ref _parked, 0, 1) != 1)
            {
                // Parked; or someone took it in between and completes it.
                return true;
            }
            DropCancellation();
            return false;
        }

        /// <summary>Loop thread: the edge was spurious (EAGAIN); wait for the next one, unless the operation was
        /// canceled or the stream disposed meanwhile (neither could take it while the loop owned it).</summary>
        protected void Repark()
        {
            BlockedSeq = Seq;
            Volatile.Write(ref _parked, 1);
            Interlocked.MemoryBarrier();
            if (_owner.IsDisposed)
            {
                Abort();
            }
            else if (_cancelToken.IsCancellationRequested)
            {
                OnCanceled(_cancelToken);
            }
        }

        /// <summary>Completes a parked operation with an error: the stream is being disposed.</summary>
        public void Abort()
        {
            if (Interlocked.Exchange(ref _parked, 0) == 1)
            {
                Finish(new IOException("The operation was aborted: the stream was closed.", new SocketException((int)SocketError.OperationAborted)));
            }
        }

        private void OnCanceled(CancellationToken token)
        {
            // The token check skips a callback that lost its race with the operation it was registered for and
            // found a later operation, made without that token, parked.
            if (token == _cancelToken && Interlocked.CompareExchange(ref _parked, 0, 1) == 1)
            {
                Finish(new OperationCanceledException(token));
            }
        }

        protected void Finish(int result)
        {
            Clear();
            DropCancellation();
            _core.SetResult(result);
        }

        protected void Finish(Exception error)
        {
            Clear();
            DropCancellation();
            _core.SetException(error);
        }

        private void DropCancellation()
        {
            if (_cancelToken.CanBeCanceled)
            {
                _cancelRegistration.Unregister();
                _cancelRegistration = default;
                _cancelToken = default;
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
            => _core.OnCompleted(continuation, state, token, flags);

        int IValueTaskSource<int>.GetResult(short token) => _core.GetResult(token);

        void IValueTaskSource.GetResult(short token) => _core.GetResult(token);
    }

    private sealed class ReadOperation(EpollSocketStream owner) : Operation(owner, blocked: false)
    {
        private Memory<byte> _buffer;
        private IEpollReadable? _handler;
        private volatile bool _hangup;
        private byte _probe;

        /// <summary>Loop thread, before the edge is counted: the peer or this side ended reading (or the socket
        /// failed), so a short read no longer proves the socket drained: end of stream is still to be read.</summary>
        public void MarkHangup() => _hangup = true;

        public ValueTask<int> Start(Memory<byte> buffer, CancellationToken ct, IEpollReadable? handler = null)
        {
            while (true)
            {
                int seq = Seq;
                if (seq != BlockedSeq)
                {
                    if (buffer.IsEmpty)
                    {
                        // Not known drained (the last read filled its buffer, or none was made yet): peek, so a
                        // zero-byte read still means "data is here" and a waiting caller (a held session racing its
                        // release) is not handed a read that blocks. After a short read this costs no system call.
                        if (_hangup || _owner.Receive(new Span<byte>(ref _probe), out int peekErrno, EpollNative.MsgPeek) >= 0 || peekErrno != EpollNative.EAgain)
                        {
                            return new ValueTask<int>(0);
                        }
                        BlockedSeq = seq;
                        continue;
                    }
                    int n = _owner.Receive(buffer.Span, out int errno);
                    if (n >= 0)
                    {
                        Drained(n, buffer.Length, seq);
                        return new ValueTask<int>(n);
                    }
                    if (errno != EpollNative.EAgain)
                    {
                        return ValueTask.FromException<int>(Failure(errno, reading: true));
                    }
                    BlockedSeq = seq;
                    continue;
                }
                _buffer = buffer;
                _handler = handler;
                if (TryPark(seq, ct))
                {
                    return new ValueTask<int>(this, Version);
                }
                _buffer = default;
                _handler = null;
                if (ct.IsCancellationRequested)
                {
                    return ValueTask.FromCanceled<int>(ct);
                }
            }
        }

        protected override void Resume()
        {
            var buffer = _buffer;
            if (buffer.IsEmpty)
            {
                if (_handler is { } handler && !_hangup)
                {
                    RunHandler(handler);
                    return;
                }
                Finish(0);
                return;
            }
            int seq = Seq;
            int n = _owner.Receive(buffer.Span, out int errno);
            if (n >= 0)
            {
                Drained(n, buffer.Length, seq);
                Finish(n);
            }
            else if (errno == EpollNative.EAgain)
            {
                Repark();
            }
            else
            {
                Finish(Failure(errno, reading: true));
            }
        }

        /// <summary>
        /// Loop thread: lets the handler read what came. It reads until the socket would block (then the wait goes on
        /// for the next edge) or gives up the wait; a handler that throws ends the wait with its exception.
        /// </summary>
        private void RunHandler(IEpollReadable handler)
        {
            bool keep;
            try
            {
                keep = handler.OnReadable();
            }
            catch (Exception e)
            {
                Finish(e);
                return;
            }
            if (keep)
            {
                Repark();
            }
            else
            {
                Finish(0);
            }
        }

        /// <summary>
        /// For a handler on the loop thread: recv(2) into <paramref name="buffer"/>. Bytes read, 0 at end of
        /// stream, -1 when the socket would block; a failure throws.
        /// </summary>
        public int ReceiveNow(Span<byte> buffer)
        {
            int n = _owner.Receive(buffer, out int errno);
            if (n >= 0)
            {
                return n;
            }
            if (errno == EpollNative.EAgain)
            {
                return -1;
            }
            throw Failure(errno, reading: true);
        }

        /// <summary>A read shorter than asked emptied the socket: the next read waits for an edge, no EAGAIN first.</summary>
        private void Drained(int read, int asked, int seq)
        {
            if (read > 0 && read < asked && !_hangup)
            {
                BlockedSeq = seq;
            }
        }

        protected override void Clear()
        {
            _buffer = default;
            _handler = null;
        }
    }

    private sealed class WriteOperation(EpollSocketStream owner, bool connecting) : Operation(owner, blocked: connecting)
    {
        private ReadOnlyMemory<byte> _buffer;

        /// <summary>Sends all of <paramref name="buffer"/>; an empty one waits for writability only if known blocked (a connect).</summary>
        public ValueTask Start(ReadOnlyMemory<byte> buffer, CancellationToken ct)
        {
            while (true)
            {
                int seq = Seq;
                if (seq != BlockedSeq)
                {
                    if (TrySend(ref buffer, seq, out int errno))
                    {
                        return default;
                    }
                    if (errno != 0)
                    {
                        return ValueTask.FromException(Failure(errno, reading: false));
                    }
                    continue;
                }
                _buffer = buffer;
                if (TryPark(seq, ct))
                {
                    return new ValueTask(this, Version);
                }
                _buffer = default;
                if (ct.IsCancellationRequested)
                {
                    return ValueTask.FromCanceled(ct);
                }
            }
        }

        protected override void Resume()
        {
            var buffer = _buffer;
            if (TrySend(ref buffer, Seq, out int errno))
            {
                Finish(0);
            }
            else if (errno != 0)
            {
                Finish(Failure(errno, reading: false));
            }
            else
            {
                _buffer = buffer;
                Repark();
            }
        }

        /// <summary>Sends until done (true), the socket is full (false, errno 0, marked blocked as of <paramref name="seq"/>) or fails.</summary>
        private bool TrySend(ref ReadOnlyMemory<byte> buffer, int seq, out int errno)
        {
            errno = 0;
            while (!buffer.IsEmpty)
            {
                int n = _owner.Send(buffer.Span, out errno);
                if (n < 0)
                {
                    if (errno == EpollNative.EAgain)
                    {
                        errno = 0;
                        BlockedSeq = seq;
                    }
                    return false;
                }
                buffer = buffer[n..];
            }
            return true;
        }

        protected override void Clear() => _buffer = default;
    }
}

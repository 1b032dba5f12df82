using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Appliance.Net;

/// <summary>
/// A stream over a connected socket whose readiness comes from an <see cref="EpollLoop"/> instead of .NET's
/// socket engine: a read or write tries the system call first only when the socket may be ready (a short read
/// or an EAGAIN marks it drained until the loop sees its next edge), so a message costs one recv and one send.
/// One read and one write may be pending at a time, as with <see cref="NetworkStream"/>; neither allocates.
/// A zero-byte read waits for readability without a system call and without holding a buffer. Shutting the
/// socket down ends a pending read with 0. Errors are <see cref="IOException"/>s around <see cref="SocketException"/>s.
/// </summary>
internal sealed partial class EpollSocketStream : Stream
{
    private readonly Socket _socket;
    private readonly SafeSocketHandle _handle;
    private readonly EpollLoop _loop;
    private readonly bool _ownsSocket;
    private readonly ReadOperation _read;
    private readonly WriteOperation _write;
    private int _disposed;

    /// <param name="connecting">The socket's non-blocking connect is under way: writes wait for it (see <see cref="WaitConnectedAsync"/>).</param>
    public EpollSocketStream(Socket socket, EpollLoop loop, bool ownsSocket, bool connecting = false)
    {
        _socket = socket;
        _handle = socket.SafeHandle;
        _loop = loop;
        _ownsSocket = ownsSocket;
        _read = new ReadOperation(this);
        _write = new WriteOperation(this, connecting);
        socket.Blocking = false;
        loop.Register(this, _handle);
    }

    /// <summary>What the loop's events for this socket carry; set by <see cref="EpollLoop.Register"/>.</summary>
    internal ulong Token { get; set; }

    public Socket Socket => _socket;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Called on the loop thread with the events epoll reported for this socket.</summary>
    internal void OnEvents(uint events)
    {
        const uint Closed = EpollNative.EpollRdHup | EpollNative.EpollHup | EpollNative.EpollErr;
        if ((events & (EpollNative.EpollIn | Closed)) != 0)
        {
            if ((events & Closed) != 0)
            {
                _read.MarkHangup();
            }
            _read.OnReady();
        }
        if ((events & (EpollNative.EpollOut | EpollNative.EpollHup | EpollNative.EpollErr)) != 0)
        {
            _write.OnReady();
        }
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return cancellationToken.IsCancellationRequested ? ValueTask.FromCanceled<int>(cancellationToken) : _read.Start(buffer, cancellationToken);
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }
        return buffer.IsEmpty ? default : _write.Start(buffer, cancellationToken);
    }

    /// <summary>
    /// Waits for data as a zero-byte read does, but while it waits, each readiness edge first goes to
    /// <paramref name="handler"/> on the loop thread, which reads with <see cref="ReceiveNow"/> and handles what
    /// it read there and then: no continuation runs per message. The wait completes with 0 when the handler gives
    /// it up (or at once, when data may already be waiting; or the peer hung up), and with the handler's exception
    /// if it throws.
    /// </summary>
    public ValueTask<int> WaitReadableAsync(IEpollReadable handler)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        return _read.Start(Memory<byte>.Empty, default, handler);
    }

    /// <summary>Only from <see cref="IEpollReadable.OnReadable"/>: bytes read, 0 at end of stream, -1 if the socket would block.</summary>
    public int ReceiveNow(Span<byte> buffer) => _read.ReceiveNow(buffer);

    /// <summary>Waits for the non-blocking connect this stream was made for; its failure is a <see cref="SocketException"/>.</summary>
    public async ValueTask WaitConnectedAsync(CancellationToken ct)
    {
        await _write.Start(ReadOnlyMemory<byte>.Empty, ct);
        int error = GetSocketError();
        if (error != 0)
        {
            throw new SocketException((int)EpollNative.ToSocketError(error));
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Synchronous calls block the caller; nothing in the gateway makes them (never on a loop thread).
    public override int Read(byte[] buffer, int offset, int count)
        => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Write(byte[] buffer, int offset, int count)
        => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _loop.Deregister(this, _handle);
            if (_ownsSocket)
            {
                _socket.Dispose();
            }
            // After the close, so a continuation that reads again finds the stream disposed.
            _read.Abort();
            _write.Abort();
        }
        base.Dispose(disposing);
    }

    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>recv(2) without blocking: bytes read (0 at end of stream), or -1 with <paramref name="errno"/>.</summary>
    private unsafe int Receive(Span<byte> buffer, out int errno, int flags = 0)
    {
        fixed (byte* p = buffer)
        {
            return Transfer(send: false, p, buffer.Length, flags, out errno);
        }
    }

    /// <summary>send(2) without blocking or SIGPIPE: bytes sent, or -1 with <paramref name="errno"/>.</summary>
    private unsafe int Send(ReadOnlySpan<byte> buffer, out int errno)
    {
        fixed (byte* p = buffer)
        {
            return Transfer(send: true, p, buffer.Length, EpollNative.MsgNoSignal, out errno);
        }
    }

    private unsafe int Transfer(bool send, byte* buffer, int length, int flags, out int errno)
    {
        // The reference keeps the descriptor from being closed (and its number reused) during the call.
        bool added = false;
        try
        {
            _handle.DangerousAddRef(ref added);
            nint fd = _handle.DangerousGetHandle();
            nint n;
            do
            {
                n = send ? EpollNative.Send(fd, buffer, (nuint)length, flags, out errno) : EpollNative.Recv(fd, buffer, (nuint)length, flags, out errno);
            }
            while (n < 0 && errno == EpollNative.EIntr);
            return (int)n;
        }
        catch (ObjectDisposedException)
        {
            errno = EpollNative.EBadF;
            return -1;
        }
        finally
        {
            if (added)
            {
                _handle.DangerousRelease();
            }
        }
    }

    private unsafe int GetSocketError()
    {
        int value = 0, length = sizeof(int);
        return EpollNative.GetSockOpt(_handle, EpollNative.SolSocket, EpollNative.SoError, &value, &length) == 0
            ? value
            : Marshal.GetLastPInvokeError();
    }

    /// <summary>The exception <see cref="NetworkStream"/> would throw for a failed read or write.</summary>
    private static IOException Failure(int errno, bool reading)
    {
        var inner = new SocketException((int)EpollNative.ToSocketError(errno));
        return new IOException($"Unable to {(reading ? "read data from" : "write data to")} the transport connection: {inner.Message}.", inner);
    }
}

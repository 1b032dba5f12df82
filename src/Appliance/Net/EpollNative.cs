using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Appliance.Net;

/// <summary>The few libc calls the epoll transport makes. Linux only; callers check <see cref="EpollTransport.IsSupported"/>.</summary>
internal static unsafe partial class EpollNative
{
    private const string Libc = "libc";

    public const uint EpollIn = 0x001;
    public const uint EpollOut = 0x004;
    public const uint EpollErr = 0x008;
    public const uint EpollHup = 0x010;
    public const uint EpollRdHup = 0x2000;
    public const uint EpollEt = 1u << 31;

    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const int EpollCloexec = 0x80000;

    public const int MsgPeek = 0x2;
    public const int MsgNoSignal = 0x4000;
    public const int SolSocket = 1;
    public const int SoError = 4;

    public const int EIntr = 4;
    public const int EBadF = 9;
    public const int EAgain = 11;
    public const int EInProgress = 115;

    /// <summary>Size of one <c>struct epoll_event</c>: packed (12 bytes) on x86-64, naturally aligned (16) elsewhere.</summary>
    public static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    /// <summary>Offset of <c>epoll_event.data</c>.</summary>
    public static readonly int EventDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [LibraryImport(Libc, EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate(int flags);

    [LibraryImport(Libc, EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epfd, int op, SafeSocketHandle fd, byte* ev);

    // The loop retries on any failure (EINTR), so errno is not needed.
    [LibraryImport(Libc, EntryPoint = "epoll_wait")]
    public static partial int EpollWait(int epfd, byte* events, int maxEvents, int timeout);

    /// <summary>recv(2): bytes read, or -1 with <paramref name="errno"/>. The caller holds a reference on the socket handle.</summary>
    /// <remarks>
    /// recv and send run once per message, so they are kept cheap. Not inlined, so the P/Invoke never lands in the
    /// caller's try block (the JIT cannot inline a P/Invoke there on Unix and calls a marshalling stub instead);
    /// errno is read only after a failure, instead of cleared and saved around every call as SetLastError does.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static nint Recv(nint fd, byte* buffer, nuint length, int flags, out int errno)
    {
        nint n = RecvRaw((int)fd, buffer, length, flags);
        errno = n < 0 ? Marshal.GetLastSystemError() : 0;
        return n;
    }

    /// <summary>send(2): bytes sent, or -1 with <paramref name="errno"/>. As <see cref="Recv"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static nint Send(nint fd, byte* buffer, nuint length, int flags, out int errno)
    {
        nint n = SendRaw((int)fd, buffer, length, flags);
        errno = n < 0 ? Marshal.GetLastSystemError() : 0;
        return n;
    }

    [LibraryImport(Libc, EntryPoint = "recv")]
    private static partial nint RecvRaw(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(Libc, EntryPoint = "send")]
    private static partial nint SendRaw(int fd, byte* buffer, nuint length, int flags);

    [LibraryImport(Libc, EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(SafeSocketHandle fd, int level, int name, int* value, int* length);

    /// <summary>Fills a <c>struct epoll_event</c> in <paramref name="ev"/> (at least 16 bytes).</summary>
    public static void WriteEvent(Span<byte> ev, uint events, ulong data)
    {
        MemoryMarshal.Write(ev, in events);
        MemoryMarshal.Write(ev[EventDataOffset..], in data);
    }

    /// <summary>Maps a Linux errno to the <see cref="SocketError"/> .NET reports for it.</summary>
    public static SocketError ToSocketError(int errno) => errno switch
    {
        0 => SocketError.Success,
        4 => SocketError.Interrupted,
        9 => SocketError.OperationAborted,
        11 => SocketError.WouldBlock,
        13 => SocketError.AccessDenied,
        22 => SocketError.InvalidArgument,
        32 => SocketError.Shutdown,
        100 => SocketError.NetworkDown,
        101 => SocketError.NetworkUnreachable,
        102 => SocketError.NetworkReset,
        103 => SocketError.ConnectionAborted,
        104 => SocketError.ConnectionReset,
        105 => SocketError.NoBufferSpaceAvailable,
        107 => SocketError.NotConnected,
        108 => SocketError.Shutdown,
        110 => SocketError.TimedOut,
        111 => SocketError.ConnectionRefused,
        112 => SocketError.HostDown,
        113 => SocketError.HostUnreachable,
        114 => SocketError.AlreadyInProgress,
        115 => SocketError.InProgress,
        _ => SocketError.SocketError,
    };
}

using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Appliance.Net;

/// <summary>
/// One epoll instance and the dedicated thread that waits on it. Each socket is registered once, edge-triggered,
/// for both directions; the thread passes each event to its <see cref="EpollSocketStream"/>, which completes a
/// waiting operation inline (continuations run on this thread, as .NET's inline completions do).
/// </summary>
internal sealed unsafe class EpollLoop
{
    private const int MaxEvents = 256;

    private static EpollLoop[]? s_loops;
    private static int s_next;

    private readonly int _epfd;
    private readonly Lock _slotsLock = new();
    private readonly Stack<int> _freeSlots = new();
    // Slot i holds the stream registered with data (generation << 32 | i); the generation tells a stale event
    // (for a stream deregistered while its event was in the loop's batch) from one for the slot's new owner.
    private EpollSocketStream?[] _slots = new EpollSocketStream?[64];
    private int _slotCount;
    private uint _generation;

    private EpollLoop(int index)
    {
        _epfd = EpollNative.EpollCreate(EpollNative.EpollCloexec);
        if (_epfd < 0)
        {
            throw new SocketException((int)EpollNative.ToSocketError(Marshal.GetLastPInvokeError()));
        }
        var thread = new Thread(Run) { IsBackground = true, Name = $"epoll {index}" };
        thread.UnsafeStart();
    }

    /// <summary>The loops, started on first use: one per two cores, as many as .NET's own socket engine gets.</summary>
    public static EpollLoop[] All => Volatile.Read(ref s_loops) ?? Start();

    /// <summary>The loop for the next socket, round robin.</summary>
    public static EpollLoop Next()
    {
        var loops = All;
        return loops.Length == 1 ? loops[0] : loops[(int)((uint)Interlocked.Increment(ref s_next) % (uint)loops.Length)];
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static EpollLoop[] Start()
    {
        lock (typeof(EpollLoop))
        {
            if (s_loops is null)
            {
                var loops = new EpollLoop[EpollTransport.LoopCount];
                for (int i = 0; i < loops.Length; i++)
                {
                    loops[i] = new EpollLoop(i);
                }
                Volatile.Write(ref s_loops, loops);
            }
            return s_loops;
        }
    }

    /// <summary>Adds a socket for reads and writes, edge-triggered; returns the token its events carry.</summary>
    public ulong Register(EpollSocketStream stream, SafeSocketHandle handle)
    {
        ulong token;
        int slot;
        lock (_slotsLock)
        {
            if (!_freeSlots.TryPop(out slot))
            {
                slot = _slotCount++;
                if (slot == _slots.Length)
                {
                    var larger = new EpollSocketStream?[_slots.Length * 2];
                    Array.Copy(_slots, larger, _slots.Length);
                    Volatile.Write(ref _slots, larger);
                }
            }
            token = ((ulong)++_generation << 32) | (uint)slot;
            stream.Token = token;
            _slots[slot] = stream;
        }
        byte* ev = stackalloc byte[16];
        EpollNative.WriteEvent(new Span<byte>(ev, 16), EpollNative.EpollIn | EpollNative.EpollOut | EpollNative.EpollRdHup | EpollNative.EpollEt, token);
        if (EpollNative.EpollCtl(_epfd, EpollNative.EpollCtlAdd, handle, ev) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            FreeSlot(slot);
            throw new SocketException((int)EpollNative.ToSocketError(errno));
        }
        return token;
    }

    /// <summary>Removes a socket before it is closed; events already fetched for it are dropped.</summary>
    public void Deregister(EpollSocketStream stream, SafeSocketHandle handle)
    {
        try
        {
            byte* ev = stackalloc byte[16];
            _ = EpollNative.EpollCtl(_epfd, EpollNative.EpollCtlDel, handle, ev);
        }
        catch (ObjectDisposedException)
        {
            // Already closed: the kernel dropped the registration with the file.
        }
        FreeSlot((int)(uint)stream.Token);
    }

    private void FreeSlot(int slot)
    {
        lock (_slotsLock)
        {
            _slots[slot] = null;
            _freeSlots.Push(slot);
        }
    }

    // Fully optimized from the start: the loop never returns, so tiering would leave it to on-stack replacement.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Run()
    {
        int size = EpollNative.EventSize, dataOffset = EpollNative.EventDataOffset;
        byte* events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * size));
        while (true)
        {
            int count = EpollNative.EpollWait(_epfd, events, MaxEvents, -1);
            if (count < 0)
            {
                // EINTR; nothing else is expected from a valid epoll descriptor and buffer.
                continue;
            }
            for (int i = 0; i < count; i++)
            {
                byte* ev = events + (i * size);
                uint mask = Unsafe.ReadUnaligned<uint>(ev);
                ulong token = Unsafe.ReadUnaligned<ulong>(ev + dataOffset);
                var slots = Volatile.Read(ref _slots);
                int slot = (int)(uint)token;
                if ((uint)slot < (uint)slots.Length && slots[slot] is { } stream && stream.Token == token)
                {
                    try
                    {
                        stream.OnEvents(mask);
                    }
                    catch (Exception e)
                    {
                        // Continuations run here; one that throws must not stop every other socket on this loop.
                        Console.Error.WriteLine($"epoll loop: unexpected exception from a completion: {e}");
                    }
                }
            }
        }
    }
}

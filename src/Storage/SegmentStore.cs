using System.Buffers;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace Appliance.Storage;

/// <summary>
/// The append-only segment store. Many producers append records through a bounded lock-free queue
/// (<see cref="TryAppend"/>); one writer thread batches them into blocks, compresses each with LZ4, frames it with
/// CRC32C and the SHA-256 of the previous block (a hash chain across segment files), writes and fsyncs per
/// <see cref="FsyncPolicy"/>. Open recovers: a torn tail is truncated, a broken chain is reported and left as it is.
/// Read with <see cref="StoreReader"/>; check with <see cref="StoreVerifier"/>.
/// </summary>
public sealed partial class SegmentStore : IAsyncDisposable, IDisposable
{
    private const int StateOpen = 0;
    private const int StateClosing = 1;
    private const int StateClosed = 2;
    private const int StateFaulted = 3;

    private readonly StoreOptions _options;
    private readonly RecordRing _ring;
    private readonly FileStream _lockFile;
    private readonly Thread _writer;
    private readonly ManualResetEventSlim _writerWake = new(false, spinCount: 0);
    private readonly AcknowledgementWaiters _waiters = new();
    private readonly object _spaceLock = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _state;
    private int _writerSleeping;
    private int _spaceWaiters;
    private readonly List<ISpaceWaiter> _spaceCallbacks = []; // under _spaceLock
    private long _acknowledged;
    private long _durable;
    private long _flushTarget = -1;
    private int _retentionRequested;
    private Exception? _fault;

    private SegmentStore(StoreOptions options, FileStream lockFile)
    {
        _options = options;
        _lockFile = lockFile;
        _ring = new RecordRing((int)Math.Min(1 << 30, BitOperations.RoundUpToPowerOf2((uint)options.QueueBytes)));
        _builder = new BlockBuilder(options.BlockBytes, options.MaxRecordBytes, K4os.Compression.LZ4.LZ4Level.L00_FAST);
        _writer = new Thread(WriterLoop) { IsBackground = true, Name = "segment store writer" };
    }

    /// <summary>What recovery found and did when the store was opened.</summary>
    public RecoveryReport Recovery { get; private set; } = RecoveryReport.Empty;

    public StoreOptions Options => _options;

    /// <summary>The queue address up to which records are acknowledged, per <see cref="FsyncPolicy"/>.</summary>
    public long AcknowledgedAddress => Volatile.Read(ref _acknowledged);

    /// <summary>The queue address up to which records are fsynced.</summary>
    public long DurableAddress => Volatile.Read(ref _durable);

    /// <summary>The address just after the newest record appended.</summary>
    public long AppendedAddress => _ring.Tail;

    /// <summary>Counters since open.</summary>
    public StoreStatistics Statistics => new(Volatile.Read(ref _recordsWritten), Volatile.Read(ref _blocksWritten),
        Volatile.Read(ref _bytesWritten), Volatile.Read(ref _rawBytesWritten), Volatile.Read(ref _syncs));

    /// <summary>The writer's failure, once it has failed.</summary>
    public Exception? Fault => Volatile.Read(ref _fault);

    /// <summary>
    /// Opens (creating if needed) the store in <see cref="StoreOptions.Directory"/> for writing: takes the writer
    /// lock, recovers the tail and starts the writer thread.
    /// </summary>
    /// <exception cref="StoreOpenException">Another process is writing, or the directory cannot be used.</exception>
    public static SegmentStore Open(StoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        FileStream lockFile;
        try
        {
            Directory.CreateDirectory(options.Directory);
            lockFile = new FileStream(Path.Combine(options.Directory, SegmentFiles.LockFileName), FileMode.OpenOrCreate,
                FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new StoreOpenException($"cannot open the store in {options.Directory} for writing: {e.Message} (is another appliance writing to it?)", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new StoreOpenException($"cannot open the store in {options.Directory}: {e.Message}", e);
        }

        var store = new SegmentStore(options, lockFile);
        try
        {
            store.Recover();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            store.CloseFiles();
            throw new StoreOpenException($"cannot recover the store in {options.Directory}: {e.Message}", e);
        }
        catch
        {
            store.CloseFiles();
            throw;
        }
        store._writer.Start();
        return store;
    }

    /// <summary>
    /// Queues one record without waiting. <see cref="AppendStatus.Full"/> is backpressure: the caller decides
    /// whether to wait (<see cref="Append"/>) or give up. <paramref name="address"/> is what
    /// <see cref="WaitForAcknowledgementAsync"/> takes. Lock-free and allocation-free.
    /// </summary>
    public AppendStatus TryAppend(in RecordHeader header, ReadOnlySpan<byte> payload, out long address)
    {
        address = 0;
        if (header.Type == 0 || StoreRecordTypes.IsStoreRecord(header.Type))
        {
            ThrowBadType(header.Type);
        }
        if (payload.Length > _options.MaxRecordBytes)
        {
            return AppendStatus.TooLarge;
        }
        switch (_ring.TryWrite(header, payload, out address))
        {
            case RingWrite.Written:
                WakeWriter();
                return AppendStatus.Appended;
            case RingWrite.Full:
                return Volatile.Read(ref _state) == StateOpen ? AppendStatus.Full : ClosedStatus();
            default:
                return ClosedStatus();
        }
    }

    /// <summary>
    /// Queues one record, waiting while the queue is full (the <c>block</c> policy). Returns anything but
    /// <see cref="AppendStatus.Full"/>. Waits without spinning; woken when the writer frees space or stops.
    /// </summary>
    public AppendStatus Append(in RecordHeader header, ReadOnlySpan<byte> payload, out long address)
    {
        var status = TryAppend(header, payload, out address);
        if (status != AppendStatus.Full)
        {
            return status;
        }
        lock (_spaceLock)
        {
            Interlocked.Increment(ref _spaceWaiters);
            try
            {
                while (true)
                {
                    status = TryAppend(header, payload, out address);
                    if (status != AppendStatus.Full)
                    {
                        return status;
                    }
                    Monitor.Wait(_spaceLock);
                }
            }
            finally
            {
                Interlocked.Decrement(ref _spaceWaiters);
            }
        }
    }

    /// <summary>
    /// The <c>block</c> policy for callers that must not block a thread: <paramref name="waiter"/> is called once,
    /// on the writer thread, the next time the writer frees queue space (or when the store closes). Register before
    /// trying <see cref="TryAppend"/> again, and count on the call only if that try finds the queue still full:
    /// space freed in between is not missed that way. False: the store is closed (<see cref="TryAppend"/> says so
    /// too), nothing will call. Allocation-free once the list has grown.
    /// </summary>
    public bool WhenSpace(ISpaceWaiter waiter)
    {
        lock (_spaceLock)
        {
            if (Volatile.Read(ref _state) != StateOpen)
            {
                return false;
            }
            if (_spaceCallbacks.Count == 0)
            {
                Interlocked.Increment(ref _spaceWaiters);
            }
            _spaceCallbacks.Add(waiter);
            return true;
        }
    }

    /// <summary>
    /// Completes when every record up to <paramref name="address"/> is acknowledged (see <see cref="FsyncPolicy"/>);
    /// fails if the writer fails first. Synchronous when it already is.
    /// </summary>
    public ValueTask WaitForAcknowledgementAsync(long address, CancellationToken cancellationToken = default)
    {
        if (AcknowledgedAddress >= address)
        {
            return ValueTask.CompletedTask;
        }
        var wait = _waiters.Wait(address, durable: false, CurrentAddress);
        WakeWriter(force: true); // someone waits: no lingering
        return new ValueTask(wait.WaitAsync(cancellationToken));
    }

    /// <summary>
    /// Writes and fsyncs everything appended before the call, whatever the policy, and completes when it is durable.
    /// </summary>
    public Task FlushAsync(CancellationToken cancellationToken = default)
    {
        var target = _ring.Tail;
        if (DurableAddress >= target)
        {
            return Task.CompletedTask;
        }
        var current = Volatile.Read(ref _flushTarget);
        while (current < target)
        {
            var seen = Interlocked.CompareExchange(ref _flushTarget, target, current);
            if (seen == current)
            {
                break;
            }
            current = seen;
        }
        var wait = _waiters.Wait(target, durable: true, CurrentAddress);
        WakeWriter(force: true);
        return wait.WaitAsync(cancellationToken);
    }

    /// <summary>Applies retention now (on the writer thread) and completes when it has.</summary>
    public Task RunRetentionAsync(CancellationToken cancellationToken = default)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_retentionWaiters)
        {
            _retentionWaiters.Add(done);
        }
        Interlocked.Exchange(ref _retentionRequested, 1);
        WakeWriter(force: true);
        if (Volatile.Read(ref _state) >= StateClosed)
        {
            CompleteRetentionWaiters();
        }
        return done.Task.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Stops accepting records, lets the writer write and fsync everything already queued, saves the active
    /// segment's index and releases the writer lock.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        BeginClose();
        await _stopped.Task.ConfigureAwait(false);
        CloseFiles();
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose()
    {
        BeginClose();
        _writer.Join();
        CloseFiles();
    }

    private void BeginClose()
    {
        Interlocked.CompareExchange(ref _state, StateClosing, StateOpen);
        WakeWriter(force: true);
        WakeSpaceWaiters(force: true);
    }

    private void CloseFiles()
    {
        _segmentFile?.Dispose();
        _segmentFile = null;
        _lockFile.Dispose();
    }

    private long CurrentAddress(bool durable) => durable ? DurableAddress : AcknowledgedAddress;

    private AppendStatus ClosedStatus() => Volatile.Read(ref _state) == StateFaulted ? AppendStatus.Faulted : AppendStatus.Closed;

    private void WakeWriter(bool force = false)
    {
        if ((force || Volatile.Read(ref _writerSleeping) != 0) && Interlocked.Exchange(ref _writerSleeping, 0) != 0)
        {
            _writerWake.Set();
        }
        else if (force)
        {
            _writerWake.Set();
        }
    }

    private void WakeSpaceWaiters(bool force = false)
    {
        if (force || Volatile.Read(ref _spaceWaiters) > 0)
        {
            ISpaceWaiter[]? callbacks = null;
            int count = 0;
            lock (_spaceLock)
            {
                Monitor.PulseAll(_spaceLock);
                if (_spaceCallbacks.Count > 0)
                {
                    // Called outside the lock, once per registration: a waiter may register again from its call.
                    count = _spaceCallbacks.Count;
                    callbacks = ArrayPool<ISpaceWaiter>.Shared.Rent(count);
                    _spaceCallbacks.CopyTo(callbacks);
                    _spaceCallbacks.Clear();
                    Interlocked.Decrement(ref _spaceWaiters);
                }
            }
            if (callbacks is not null)
            {
                for (int i = 0; i < count; i++)
                {
                    callbacks[i].OnSpace();
                }
                ArrayPool<ISpaceWaiter>.Shared.Return(callbacks, clearArray: true);
            }
        }
    }

    private void Report(StoreEventKind kind, StoreEventSeverity severity, string message, string? segment = null, long offset = -1)
    {
        try
        {
            _options.Events?.Invoke(new StoreEvent(kind, severity, message, segment, offset));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // A failing event sink must not stop the writer.
            Debug.WriteLine(e);
        }
    }

    [DoesNotReturn, StackTraceHidden]
    private static void ThrowBadType(byte type) =>
        throw new ArgumentOutOfRangeException(nameof(type), type, $"record types are 1 to {StoreRecordTypes.MaxApplicationType}");
}

using System.Buffers;
using Appliance.Storage;

namespace Appliance.Recording;

/// <summary>
/// Records one session into the segment store. Made by <see cref="RecordingService.StartSession"/>, which writes
/// the session-start record.
/// </summary>
/// <remarks>
/// <para>The API the session hook uses:</para>
/// <code>
/// var recorder = recording.StartSession(new SessionStartInfo { Subject = …, Target = …, … });  // null: recording disabled
///                                                   // throws RecordingRefusedException: the session must not start
/// recorder.Statement(sqlUtf8, "select", tables, "allow", rule);   // each statement, as decided
/// recorder.Rows(dataRowBody);                                     // each DataRow the client receives (masked)
/// recorder.Result("SELECT 3", 3, sqlState: null, message: null);  // CommandComplete, or the error
/// recorder.Notice("WARNING", "01000", "…");                       // optional
/// recorder.End("client closed", bytesFromClient, bytesFromServer);
/// </code>
/// <para>
/// Every method returns true when the record was queued. False means the session cannot be recorded any more
/// (<see cref="Failure"/> says why: the queue was full under <c>when_full: fail-session</c>, or the store is down):
/// the hook ends the session (fail closed). Once false, every later call is false too, except <see cref="End"/>,
/// which still tries once so the transcript says how the session ended.
/// </para>
/// <para>
/// Nothing here waits; calls come from the relay, on the epoll loop thread that every session shares. Under
/// <c>when_full: block</c> a record that finds the store's queue full is kept, in order, in this session's own
/// queue, and <see cref="MustWait"/> turns true: the session holds its next message until
/// <see cref="WaitForRoomAsync"/> has moved those records into the store, so it slows down to the disk's pace
/// while other sessions go on. Records are encoded into pooled buffers (cleared after use: they hold user data)
/// and copied into the store's queue; nothing is allocated per record while the queue has room.
/// </para>
/// <para>
/// Threads: <see cref="Rows"/> and <see cref="Result"/> belong to one direction (server to client) and must not be
/// called concurrently with each other; any method may run concurrently with any other otherwise. Sequence
/// numbers follow the order records enter the store.
/// </para>
/// <para>
/// Rows: <see cref="Rows"/> takes a DataRow message body as the client received it (after masking). Rows are
/// recorded until the statement's rows reach <c>record.max_result_bytes</c>; later rows are counted, not recorded,
/// and the result record says so. <see cref="Result"/> closes the statement's rows.
/// </para>
/// </remarks>
public sealed class SessionRecorder : ISpaceWaiter
{
    private const int RowsChunkBytes = 16 * 1024;

    private readonly SegmentStore _store;
    private readonly TimeProvider _time;
    private readonly bool _failSession;
    private readonly int _maxResultBytes;
    private readonly int _maxStatementBytes;
    private readonly Lock _gate = new();
    private ulong _sequence;
    private long _statements;
    private int _failure;
    private int _ended;

    // Under `block`: records that found the store's queue full, oldest first, each a pooled copy (under _gate).
    private readonly Queue<(RecordHeader Header, byte[] Buffer, int Length)> _waiting = new();
    private TaskCompletionSource? _roomMade;
    private volatile bool _mustWait;

    // Rows of the current statement (server-to-client side only).
    private byte[]? _rows;
    private int _rowsLength;
    private long _resultBytes;
    private long _rowsRecorded;
    private bool _rowsTruncated;

    internal SessionRecorder(SegmentStore store, Guid sessionId, TimeProvider time, bool failSession, int maxResultBytes)
    {
        _store = store;
        SessionId = sessionId;
        _time = time;
        _failSession = failSession;
        _maxResultBytes = maxResultBytes;
        // Leaves room for the statement's other fields within one record.
        _maxStatementBytes = store.Options.MaxRecordBytes - 64 * 1024;
    }

    public Guid SessionId { get; }

    /// <summary>Why recording stopped; <see cref="RecordingFailure.None"/> while it works.</summary>
    public RecordingFailure Failure => (RecordingFailure)Volatile.Read(ref _failure);

    /// <summary>Statements recorded so far.</summary>
    public long Statements => Volatile.Read(ref _statements);

    internal bool Start(SessionStartInfo info)
    {
        var size = RecordCodec.SessionStartSize(info);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var w = new RecordPayloadWriter(buffer);
            RecordCodec.WriteSessionStart(ref w, info);
            return Append(RecordKind.SessionStart, w.Written);
        }
        finally
        {
            Return(buffer, size);
        }
    }

    /// <summary>
    /// Records a statement: its text (UTF-8, as sent; cut to the record limit if huge), class, tables, the decision
    /// (<c>allow</c>, <c>deny</c>, <c>review</c>) and the index of the deciding rule (-1 for none).
    /// </summary>
    public bool Statement(ReadOnlySpan<byte> sqlText, string statementClass, IReadOnlyList<string> tables, string decision, int rule)
    {
        var text = sqlText.Length > _maxStatementBytes ? sqlText[.._maxStatementBytes] : sqlText;
        var size = RecordCodec.StatementSize(text.Length, statementClass, tables, decision);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var w = new RecordPayloadWriter(buffer);
            RecordCodec.WriteStatement(ref w, text, sqlText.Length, statementClass, tables, decision, rule);
            if (!Append(RecordKind.Statement, w.Written))
            {
                return false;
            }
            Interlocked.Increment(ref _statements);
            return true;
        }
        finally
        {
            Return(buffer, size);
        }
    }

    /// <summary>
    /// Records a statement as <see cref="Statement(ReadOnlySpan{byte}, string, IReadOnlyList{string}, string, int)"/> does,
    /// with its tables given as ranges of UTF-8 names in <paramref name="names"/> (the statement gate's own buffer):
    /// the same record, and no string made.
    /// </summary>
    public bool Statement(ReadOnlySpan<byte> sqlText, string statementClass, ReadOnlySpan<byte> names, ReadOnlySpan<Range> tables, string decision, int rule)
    {
        var text = sqlText.Length > _maxStatementBytes ? sqlText[.._maxStatementBytes] : sqlText;
        var size = RecordCodec.StatementSize(text.Length, statementClass, names, tables, decision);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var w = new RecordPayloadWriter(buffer);
            RecordCodec.WriteStatement(ref w, text, sqlText.Length, statementClass, names, tables, decision, rule);
            if (!Append(RecordKind.Statement, w.Written))
            {
                return false;
            }
            Interlocked.Increment(ref _statements);
            return true;
        }
        finally
        {
            Return(buffer, size);
        }
    }

    /// <summary>Records one result row (a DataRow body as the client received it), until the statement's cap.</summary>
    public bool Rows(ReadOnlySpan<byte> dataRowPayload)
    {
        if (Failure != RecordingFailure.None)
        {
            return false;
        }
        return !Admit(dataRowPayload.Length) || AddRow(dataRowPayload);
    }

    /// <summary>Records one result row that may span buffer segments, as <see cref="Rows(ReadOnlySpan{byte})"/> does.</summary>
    public bool Rows(in ReadOnlySequence<byte> dataRowPayload)
    {
        if (dataRowPayload.IsSingleSegment)
        {
            return Rows(dataRowPayload.FirstSpan);
        }
        if (Failure != RecordingFailure.None)
        {
            return false;
        }
        if (dataRowPayload.Length > _maxResultBytes || !Admit((int)dataRowPayload.Length))
        {
            _rowsTruncated = true;
            return true;
        }
        var length = (int)dataRowPayload.Length;
        var copy = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            dataRowPayload.CopyTo(copy);
            return AddRow(copy.AsSpan(0, length));
        }
        finally
        {
            Return(copy, length);
        }
    }

    /// <summary>Counts a row against the statement's cap: false when it is only counted, not recorded.</summary>
    private bool Admit(int length)
    {
        if (_resultBytes + length > _maxResultBytes || 1 + RecordPayloadWriter.MaxVarIntSize + length > _store.Options.MaxRecordBytes)
        {
            _rowsTruncated = true;
            return false;
        }
        _resultBytes += length;
        _rowsRecorded++;
        return true;
    }

    private bool AddRow(ReadOnlySpan<byte> dataRowPayload)
    {
        var entry = RecordPayloadWriter.MaxVarIntSize + dataRowPayload.Length;
        if (1 + entry > RowsChunkBytes)
        {
            // A big row goes alone, after the rows before it.
            return FlushRows() && AppendRowsAlone(dataRowPayload, entry);
        }
        if (_rows is null)
        {
            _rows = ArrayPool<byte>.Shared.Rent(RowsChunkBytes);
            _rows[0] = RecordCodec.Version;
            _rowsLength = 1;
        }
        else if (_rowsLength + entry > RowsChunkBytes && !FlushRows())
        {
            return false;
        }
        var w = new RecordPayloadWriter(_rows.AsSpan(_rowsLength));
        w.WriteBytes(dataRowPayload);
        _rowsLength += w.Length;
        return true;
    }

    /// <summary>
    /// Records how the current statement ended: its command tag and row count (-1 when unknown), or the error's
    /// SQLSTATE and message; closes the statement's rows.
    /// </summary>
    public bool Result(string commandTag, long rows, string? sqlState, string? message)
    {
        if (!FlushRows())
        {
            return false;
        }
        var size = RecordCodec.ResultSize(commandTag, sqlState, message);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var w = new RecordPayloadWriter(buffer);
            RecordCodec.WriteResult(ref w, commandTag, rows, sqlState, message, _rowsRecorded, _rowsTruncated);
            return Append(RecordKind.Result, w.Written);
        }
        finally
        {
            Return(buffer, size);
            EndRows();
        }
    }

    /// <summary>
    /// Records how the current statement ended, as <see cref="Result(string, long, string?, string?)"/> does, with the
    /// command tag as the UTF-8 bytes of the CommandComplete message: no string made.
    /// </summary>
    public bool Result(ReadOnlySpan<byte> commandTag, long rows, string? sqlState, string? message)
    {
        if (!FlushRows())
        {
            return false;
        }
        var size = RecordCodec.ResultSize(commandTag, sqlState, message);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var w = new RecordPayloadWriter(buffer);
            RecordCodec.WriteResult(ref w, commandTag, rows, sqlState, message, _rowsRecorded, _rowsTruncated);
            return Append(RecordKind.Result, w.Written);
        }
        finally
        {
            Return(buffer, size);
            EndRows();
        }
    }

    // The statement's rows are done: the chunk goes back to the pool, so an idle session holds none.
    private void EndRows()
    {
        _resultBytes = 0;
        _rowsRecorded = 0;
        _rowsTruncated = false;
        if (_rows is not null)
        {
            Return(_rows, _rowsLength);
            _rows = null;
            _rowsLength = 0;
        }
    }

    /// <summary>Records a notice the client received.</summary>
    public bool Notice(string severity, string sqlState, string message)
    {
        var size = RecordCodec.NoticeSize(severity, sqlState, message);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var w = new RecordPayloadWriter(buffer);
            RecordCodec.WriteNotice(ref w, severity, sqlState, message);
            return Append(RecordKind.Notice, w.Written);
        }
        finally
        {
            Return(buffer, size);
        }
    }

    /// <summary>Records a step of a just-in-time approval (placeholder until approvals land).</summary>
    public bool Approval(string @event, string requestId, string actor, string detail)
    {
        var size = RecordCodec.ApprovalSize(@event, requestId, actor, detail);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var w = new RecordPayloadWriter(buffer);
            RecordCodec.WriteApproval(ref w, @event, requestId, actor, detail);
            return Append(RecordKind.Approval, w.Written);
        }
        finally
        {
            Return(buffer, size);
        }
    }

    /// <summary>
    /// Records the end of the session (why, and bytes each way) after any rows still pending. Tried even after a
    /// failure (without waiting), so the transcript says how the session ended. Later calls return false.
    /// </summary>
    public bool End(string reason, long bytesFromClient, long bytesFromServer)
    {
        if (Interlocked.Exchange(ref _ended, 1) != 0)
        {
            return false;
        }
        var failed = Failure != RecordingFailure.None;
        if (!failed)
        {
            FlushRows();
        }
        if (_rows is not null)
        {
            Return(_rows, _rowsLength);
            _rows = null;
        }
        var size = RecordCodec.SessionEndSize(reason);
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var w = new RecordPayloadWriter(buffer);
            RecordCodec.WriteSessionEnd(ref w, reason, bytesFromClient, bytesFromServer, Statements);
            var recorded = Append(RecordKind.SessionEnd, w.Written, evenAfterFailure: true);
            Interlocked.CompareExchange(ref _failure, (int)RecordingFailure.Ended, (int)RecordingFailure.None);
            return recorded && !failed;
        }
        finally
        {
            Return(buffer, size);
        }
    }

    private bool FlushRows()
    {
        if (_rows is null || _rowsLength <= 1)
        {
            return Failure == RecordingFailure.None;
        }
        var ok = Append(RecordKind.ResultRows, _rows.AsSpan(0, _rowsLength));
        _rows.AsSpan(0, _rowsLength).Clear();
        _rows[0] = RecordCodec.Version;
        _rowsLength = 1;
        return ok;
    }

    private bool AppendRowsAlone(ReadOnlySpan<byte> row, int entry)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(1 + entry);
        try
        {
            var w = new RecordPayloadWriter(buffer);
            w.WriteByte(RecordCodec.Version);
            w.WriteBytes(row);
            return Append(RecordKind.ResultRows, w.Written);
        }
        finally
        {
            Return(buffer, 1 + entry);
        }
    }

    /// <summary>
    /// Under <c>when_full: block</c>: records are waiting for room in the store. The session should hold its next
    /// message until <see cref="WaitForRoomAsync"/> completes.
    /// </summary>
    public bool MustWait => _mustWait;

    /// <summary>Completes once every record that waited for room is in the store's queue (or the store is gone).</summary>
    public Task WaitForRoomAsync()
    {
        lock (_gate)
        {
            return _waiting.Count == 0 ? Task.CompletedTask : (_roomMade ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    private bool Append(RecordKind kind, ReadOnlySpan<byte> payload, bool evenAfterFailure = false)
    {
        lock (_gate)
        {
            if (Failure != RecordingFailure.None && !evenAfterFailure)
            {
                return false;
            }
            var header = new RecordHeader((byte)kind, SessionId, _sequence, StoreTime.ToUnixMicroseconds(_time.GetUtcNow()));
            // After a failure the end record is tried once, and never waits; otherwise `block` keeps it for later.
            var wait = !_failSession && Failure == RecordingFailure.None;
            var status = _waiting.Count > 0 ? AppendStatus.Full : _store.TryAppend(header, payload, out _);
            if (status == AppendStatus.Full && wait)
            {
                var copy = ArrayPool<byte>.Shared.Rent(payload.Length);
                payload.CopyTo(copy);
                _waiting.Enqueue((header, copy, payload.Length));
                if (!_mustWait)
                {
                    _mustWait = true;
                    WaitForSpace();
                }
                status = AppendStatus.Appended;
            }
            if (status == AppendStatus.Appended)
            {
                _sequence++;
                return true;
            }
            var failure = status == AppendStatus.Full ? RecordingFailure.QueueFull : RecordingFailure.StoreUnavailable;
            Interlocked.CompareExchange(ref _failure, (int)failure, (int)RecordingFailure.None);
            return false;
        }
    }

    /// <summary>The store's writer freed room: moves waiting records in (on the writer thread; nothing here waits).</summary>
    void ISpaceWaiter.OnSpace()
    {
        lock (_gate)
        {
            if (_waiting.Count > 0)
            {
                WaitForSpace();
            }
        }
    }

    /// <summary>Under _gate: asks the store to call back when it frees room, then tries at once, so room freed
    /// before the call was registered is not missed.</summary>
    private void WaitForSpace()
    {
        _store.WhenSpace(this);
        while (_waiting.TryPeek(out var record))
        {
            var status = _store.TryAppend(record.Header, record.Buffer.AsSpan(0, record.Length), out _);
            if (status == AppendStatus.Full)
            {
                return;
            }
            _waiting.Dequeue();
            Return(record.Buffer, record.Length);
            if (status != AppendStatus.Appended)
            {
                Interlocked.CompareExchange(ref _failure, (int)RecordingFailure.StoreUnavailable, (int)RecordingFailure.None);
            }
        }
        _mustWait = false;
        var roomMade = _roomMade;
        _roomMade = null;
        roomMade?.TrySetResult();
    }

    // Pooled buffers held statement text and rows: clear what was used before handing them back.
    private static void Return(byte[] buffer, int used)
    {
        buffer.AsSpan(0, Math.Min(used, buffer.Length)).Clear();
        ArrayPool<byte>.Shared.Return(buffer);
    }
}

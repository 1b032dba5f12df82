using System.Buffers;
using System.Collections.Concurrent;
using Appliance.Protocols.Postgres;

namespace Appliance.Postgres;

internal sealed partial class PgSession
{
    // Refused statements are not answered by the gateway directly: the upstream is sent a statement that
    // fails to parse (carrying this session's marker), so the server itself aborts the transaction, skips to
    // Sync and answers with ReadyForQuery, exactly as for a real error. Its ErrorResponse is then replaced
    // by the refusal. Responses therefore stay in order and both sides agree on the transaction state.
    private readonly string _refusalMarker = "refused_by_appliance_" + Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();
    private readonly ConcurrentQueue<PendingRefusal> _refusals = new();
    private long _cyclesSent;
    private long _cyclesDone;
    private bool _skipUntilSync;

    /// <summary>A refusal to deliver in place of the marker error answering request cycle <see cref="Cycle"/>.</summary>
    private sealed record PendingRefusal(long Cycle, byte[] ErrorResponse);

    /// <summary>Client → upstream: decides statements and keeps the request cycles counted.</summary>
    private readonly struct ClientInspector(PgSession session) : IPgFrameInspector
    {
        public bool NeedsWhole(byte type) => type is not (PgFrontend.CopyData);

        public PgFrameAction Inspect(in PgFrame frame)
        {
            if (session.HoldForRecording(ref session._clientWait))
            {
                return PgFrameAction.Hold;
            }
            return session._maskTracking ? session.TrackClient(in frame, session.InspectClient(in frame)) : session.InspectClient(in frame);
        }

        public void WriteReplacement(in PgFrame frame, IBufferWriter<byte> output) => session.WriteClientReplacement(in frame, output);

        public ValueTask<string?> WaitHeldAsync() => session.WaitClientHeldAsync();
    }

    /// <summary>Upstream → client: counts ReadyForQuery, swaps marker errors for refusals, and masks results.</summary>
    private readonly struct UpstreamInspector(PgSession session) : IPgFrameInspector
    {
        // With masking every message is read whole (rows are rewritten), except COPY data while no mask applies to it.
        public bool NeedsWhole(byte type) => session._maskTracking
            ? type != PgBackend.CopyData || session._activeCopy is not null
            : type is PgBackend.ErrorResponse or PgBackend.ReadyForQuery or PgBackend.ParameterStatus or PgBackend.CommandComplete;

        public PgFrameAction Inspect(in PgFrame frame) => session.HoldForRecording(ref session._upstreamWait) ? PgFrameAction.Hold : session.InspectUpstream(in frame);

        public void WriteReplacement(in PgFrame frame, IBufferWriter<byte> output) => session.WriteUpstreamReplacement(in frame, output);

        public ValueTask<string?> WaitHeldAsync() => session.TakeWait(ref session._upstreamWait);
    }

    /// <summary>
    /// Under <c>record.when_full: block</c>, while this session's records wait for room in the store, each direction
    /// holds its next message (<paramref name="wait"/> is what the hold waits for): the session slows down to the
    /// disk's pace without blocking the loop thread the other sessions share.
    /// </summary>
    private bool HoldForRecording(ref Task<string?>? wait)
    {
        if (_recorder is not { MustWait: true } recorder)
        {
            return false;
        }
        wait = WaitForRecordingAsync(recorder);
        _context.Metrics.RecordingHeld(_target!.Name);
        return true;
    }

    private static async Task<string?> WaitForRecordingAsync(Recording.SessionRecorder recorder)
    {
        await recorder.WaitForRoomAsync();
        return null;
    }

    private PgFrameAction InspectClient(in PgFrame frame)
    {
        if (_heldOutcome is not null)
        {
            return ReleaseHeld(in frame);
        }
        switch (frame.Type)
        {
            case PgFrontend.Sync:
                _skipUntilSync = false;
                _cyclesSent++;
                return PgFrameAction.Forward;
            case PgFrontend.Flush:
            case PgFrontend.CopyData:
            case PgFrontend.CopyDone:
            case PgFrontend.CopyFail:
                return PgFrameAction.Forward;
            case PgFrontend.Terminate:
                _clientTerminated = true;
                return PgFrameAction.ForwardAndStop;
            case PgFrontend.Query:
                if (_skipUntilSync)
                {
                    return PgFrameAction.Drop;
                }
                if (PrepareMasking(out var maskRefusal) == PgFrameAction.Hold)
                {
                    return PgFrameAction.Hold;
                }
                var refusal = maskRefusal ?? DecideQuery(in frame);
                if (ReferenceEquals(refusal, PgStatementGate.StaleRelations))
                {
                    return ReloadRelations();
                }
                _cyclesSent++;
                return refusal is not null ? (refusal.Ask is { } ask ? Hold(ask) : Refuse(refusal, extended: false)) : PgFrameAction.Forward;
            case PgFrontend.FunctionCall:
                if (_skipUntilSync)
                {
                    return PgFrameAction.Drop;
                }
                _cyclesSent++;
                return Refuse(new Refusal("the fast-path function call interface is not allowed through the gateway; call functions with SQL", -1), extended: false);
            case PgFrontend.Parse:
            case PgFrontend.Bind:
            case PgFrontend.Describe:
            case PgFrontend.Execute:
            case PgFrontend.Close:
                if (_skipUntilSync)
                {
                    return PgFrameAction.Drop;
                }
                Refusal? parseRefusal = null;
                if (frame.Type == PgFrontend.Parse && PrepareMasking(out parseRefusal) == PgFrameAction.Hold)
                {
                    return PgFrameAction.Hold;
                }
                var extendedRefusal = parseRefusal ?? DecideExtended(in frame);
                if (ReferenceEquals(extendedRefusal, PgStatementGate.StaleRelations))
                {
                    return ReloadRelations();
                }
                return extendedRefusal is not null
                    ? (extendedRefusal.Ask is { } held ? Hold(held) : Refuse(extendedRefusal, extended: true))
                    : PgFrameAction.Forward;
            default:
                return PgFrameAction.Fail;
        }
    }

    private PgFrameAction Refuse(Refusal refusal, bool extended)
    {
        // Extended protocol: everything up to the next Sync belongs to the cycle that Sync closes.
        long cycle = extended ? _cyclesSent + 1 : _cyclesSent;
        var writer = new ArrayBufferWriter<byte>(256);
        PgMessageWriter.WriteError(writer, "ERROR", refusal.SqlState, refusal.Message);
        _refusals.Enqueue(new PendingRefusal(cycle, writer.WrittenSpan.ToArray()));
        _skipUntilSync = extended;
        return PgFrameAction.Replace;
    }

    private void WriteClientReplacement(in PgFrame frame, IBufferWriter<byte> output)
    {
        if (_injectDescribe)
        {
            _injectDescribe = false;
            WriteDescribeThenExecute(in frame, output);
        }
        else if (frame.Type is PgFrontend.Query or PgFrontend.FunctionCall)
        {
            PgMessageWriter.WriteQuery(output, _refusalMarker);
        }
        else
        {
            PgMessageWriter.WriteParse(output, _refusalMarker, _refusalMarker);
        }
    }

    private PgFrameAction InspectUpstream(in PgFrame frame)
    {
        _replacingRefusal = false;
        switch (frame.Type)
        {
            case PgBackend.ReadyForQuery:
                _cyclesDone++;
                while (_refusals.TryPeek(out var done) && done.Cycle <= _cyclesDone)
                {
                    _refusals.TryDequeue(out _);
                }
                return _maskTracking ? InspectMasked(in frame) : PgFrameAction.Forward;
            case PgBackend.ErrorResponse:
                if (_refusals.TryPeek(out var pending) && pending.Cycle == _cyclesDone + 1 && IsMarkerError(frame.Payload))
                {
                    if (_maskTracking)
                    {
                        InspectMasked(in frame);
                    }
                    _replacingRefusal = true;
                    return PgFrameAction.Replace;
                }
                var action = _maskTracking ? InspectMasked(in frame) : PgFrameAction.Forward;
                if (_recorder is { } failed)
                {
                    var error = PgErrorFields.Parse(frame.Payload);
                    failed.Result("", 0, error.SqlState, action == PgFrameAction.Replace ? "(message withheld: the statement reads masked columns)" : error.Message);
                }
                return action;
            case PgBackend.CommandComplete:
                if (_recorder is not null)
                {
                    RecordCommandComplete(frame.Payload);
                }
                return _maskTracking ? InspectMasked(in frame) : PgFrameAction.Forward;
            case PgBackend.DataRow when _maskTracking:
                return InspectMasked(in frame);
            case PgBackend.DataRow when _recorder is not null:
                _recorder.Rows(frame.Payload);
                return PgFrameAction.Forward;
            case PgBackend.ParameterStatus:
                TrackParameter(frame.Payload);
                return PgFrameAction.Forward;
            default:
                return _maskTracking ? InspectMasked(in frame) : PgFrameAction.Forward;
        }
    }

    private bool _replacingRefusal;

    private void WriteUpstreamReplacement(in PgFrame frame, IBufferWriter<byte> output)
    {
        if (!_replacingRefusal)
        {
            WriteMaskedReplacement(in frame, output);
        }
        else if (_refusals.TryPeek(out var refusal))
        {
            output.Write(refusal.ErrorResponse);
        }
    }

    /// <summary>Records a CommandComplete: its tag, and the row count the tag ends with ("SELECT 3", "INSERT 0 1").</summary>
    private void RecordCommandComplete(ReadOnlySequence<byte> payload)
    {
        // A tag is short: one that spans buffer segments is copied (cut to 256 bytes).
        Span<byte> copy = stackalloc byte[payload.IsSingleSegment ? 0 : 256];
        var tag = payload.IsSingleSegment ? payload.FirstSpan : copy[..CopyPrefix(payload, copy)];
        int end = tag.IndexOf((byte)0);
        if (end >= 0) tag = tag[..end];
        int space = tag.LastIndexOf((byte)' ');
        long rows = space >= 0 && long.TryParse(tag[(space + 1)..], out var n) ? n : 0;
        _recorder!.Result(tag, rows, null, null);
    }

    private static int CopyPrefix(ReadOnlySequence<byte> payload, Span<byte> destination)
    {
        var length = (int)Math.Min(payload.Length, destination.Length);
        payload.Slice(0, length).CopyTo(destination);
        return length;
    }

    /// <summary>Only runs on an error while a refusal is pending, so copying the (small) payload is fine.</summary>
    private bool IsMarkerError(ReadOnlySequence<byte> payload)
    {
        var bytes = payload.Length <= 8192 ? payload.ToArray() : payload.Slice(0, 8192).ToArray();
        return bytes.AsSpan().IndexOf(System.Text.Encoding.ASCII.GetBytes(_refusalMarker)) >= 0;
    }
}

using System.Buffers;
using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Text;
using Appliance.Masking;
using Appliance.Protocols.Postgres;

namespace Appliance.Postgres;

/// <summary>
/// Result masking for sessions whose principal has masks. The client side notes, in order, every message
/// that the server will answer; the upstream side takes those notes to know which statement or portal each
/// RowDescription, DataRow and CopyData belongs to, including rows of a portal described earlier or not at
/// all (the gateway then describes it itself and swallows the answer). Sessions without masks skip all this.
/// </summary>
internal sealed partial class PgSession
{
    private enum Expect : byte { Query, Parse, Bind, DescribeStatement, DescribePortal, InjectedDescribe, Execute, Close, Sync }

    /// <summary>A message the server will answer, as the client side forwarded it.</summary>
    private readonly record struct Pending(Expect Kind, string Name, string? Statement, short[]? Formats, MaskContext? Context, byte CloseKind = 0);

    private bool _maskTracking;
    private SessionHashKeys? _hashKeys;
    private readonly ConcurrentQueue<Pending> _responses = new();

    // Client side.
    private readonly Dictionary<string, MaskContext?> _statementMasks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string Statement, short[] Formats)> _portals = new(StringComparer.Ordinal);
    private readonly HashSet<string> _describedStatements = new(StringComparer.Ordinal);
    private readonly HashSet<string> _describedPortals = new(StringComparer.Ordinal);
    private string[] _maskColumns = [];
    private Task<string?>? _clientWait;
    // The catalog generation a reload for an unknown relation asked for, until the statement is decided again.
    private long? _relationsReloadedFor;
    private string? _catalogFailure;
    private CatalogSnapshot? _clientSnapshot;
    // Set with the Replace that sends the gateway's own Describe before an Execute; any other Replace is a refusal.
    private bool _injectDescribe;

    // Upstream side.
    private readonly Dictionary<string, MaskPlan> _statementPlans = new(StringComparer.Ordinal);
    private readonly Dictionary<string, MaskPlan> _portalPlans = new(StringComparer.Ordinal);
    private readonly HashSet<uint> _unseenRelations = [];
    private MaskPlan? _activePlan;
    private MaskPlan? _activeCopy;
    private CopyFormat? _activeCopyFormat;
    private bool _copyHeaderPending;
    private bool _suppressUntilReady;
    private byte[]? _replacement;
    private Task<string?>? _upstreamWait;

    /// <summary>At login: turns tracking on when masks apply to this principal, and loads the catalog they need.</summary>
    private async Task StartMaskingAsync(CancellationToken ct)
    {
        if (_policy!.Masks is null || _policy.Current is not { } policy)
        {
            return;
        }
        _maskTracking = true;
        _hashKeys = new SessionHashKeys(_context.MaskingKeys.Value, _target!.Name, _id);
        _maskColumns = policy.MaskedColumns;
        try
        {
            await _target.Catalog.GetAsync(_maskColumns, 0, ct);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException)
        {
            throw new PgProtocolException(PgSqlState.ConnectionFailure, $"masking on target \"{_target.Name}\" needs the catalog, which cannot be read: {e.Message}");
        }
    }

    /// <summary>
    /// Client side, before a Query or Parse is decided: the masks and catalog to decide with. Wait when the
    /// catalog must be reloaded first; a refusal when masks apply to a session that started without them, or
    /// when the catalog a rule needs cannot be read.
    /// </summary>
    private PgFrameAction PrepareMasking(out Refusal? refusal)
    {
        refusal = null;
        var masks = _policy!.Masks;
        bool views = _policy.ViewsMatter;
        if (masks is null && !views)
        {
            // DecideSql left the gate without masks or catalog.
            return PgFrameAction.Forward;
        }
        if (masks is not null && !_maskTracking)
        {
            refusal = new Refusal("statement refused: a policy reload made columns masked for this principal; reconnect so the gateway can mask them", -1);
            return PgFrameAction.Forward;
        }
        if (_catalogFailure is { } failure)
        {
            _catalogFailure = null;
            refusal = new Refusal($"statement refused: {failure}", -1, SqlState: PgSqlState.ConnectionFailure);
            return PgFrameAction.Forward;
        }
        _maskColumns = _policy.Current!.MaskedColumns;
        // The load this statement waited for counts however short catalog_max_age is.
        if ((_target!.Catalog.Current(_maskColumns) ?? _clientSnapshot) is not { } snapshot)
        {
            _clientWait = LoadForClientAsync(0);
            return PgFrameAction.Hold;
        }
        // Both made or set per decision and dropped after it (DecideSql): a session keeps no snapshot alive.
        _gate!.Masking = masks is null ? null : new MaskingGate(masks, snapshot);
        _gate.Relations = views ? snapshot : null;
        _gate.RelationsFresh = _relationsReloadedFor is { } generation && snapshot.Generation >= generation;
        _relationsReloadedFor = null;
        _clientSnapshot = null;
        return PgFrameAction.Forward;
    }

    /// <summary>
    /// The statement names a relation the catalog does not know: reload it (a view may have been made outside
    /// the gateway) and decide the statement again with the new one.
    /// </summary>
    private PgFrameAction ReloadRelations()
    {
        long generation = _target!.Catalog.NextGeneration;
        _relationsReloadedFor = generation;
        _clientWait = LoadForClientAsync(generation);
        return PgFrameAction.Hold;
    }

    /// <summary>
    /// Client side: loads the catalog for the held statement. When only the policy needs it, a catalog that
    /// cannot be read refuses the statement (PrepareMasking), not the session.
    /// </summary>
    private async Task<string?> LoadForClientAsync(long notBefore)
    {
        try
        {
            _clientSnapshot = await _target!.Catalog.GetAsync(_maskColumns, notBefore, CancellationToken.None);
            return null;
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException or IOException)
        {
            if (_policy!.Masks is not null)
            {
                return CatalogFailure(e);
            }
            _catalogFailure = CatalogFailure(e);
            return null;
        }
    }

    private string CatalogFailure(Exception e)
        => $"the gateway needs the catalog of target \"{_target!.Name}\" (for masking, or a rule naming tables that views could read), and it cannot be read: {e.Message}";

    /// <summary>Reloads the catalog; with <paramref name="relation"/>, notes it as unseen if the reload cannot see it either.</summary>
    private async Task<string?> LoadCatalogAsync(long notBefore, uint relation)
    {
        try
        {
            var snapshot = await _target!.Catalog.GetAsync(_maskColumns, notBefore, CancellationToken.None);
            if (relation != 0 && !snapshot.Knows(relation))
            {
                // Invisible to another connection: made by this session's open transaction.
                _unseenRelations.Add(relation);
            }
            return null;
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or TimeoutException or IOException)
        {
            return CatalogFailure(e);
        }
    }

    private ValueTask<string?> TakeWait(ref Task<string?>? wait)
    {
        var task = wait;
        wait = null;
        return task is null ? ValueTask.FromResult<string?>(null) : new ValueTask<string?>(task);
    }

    /// <summary>Client side, after Hold: the catalog load masking asked for, or else an approval.</summary>
    private async ValueTask<string?> WaitClientHeldAsync()
    {
        if (_clientWait is not null)
        {
            return await TakeWait(ref _clientWait);
        }
        await WaitHeldAsync();
        return null;
    }

    /// <summary>Client side: notes a forwarded message the server will answer. Returns Replace when a Describe must go first.</summary>
    private PgFrameAction TrackClient(in PgFrame frame, PgFrameAction action)
    {
        if (!_maskTracking || action is PgFrameAction.Drop or PgFrameAction.Hold or PgFrameAction.Fail)
        {
            return action;
        }
        if (action == PgFrameAction.Replace)
        {
            // A refusal: the marker Query is answered like a Query; a marker Parse fails and the rest of the cycle is skipped.
            if (frame.Type is PgFrontend.Query or PgFrontend.FunctionCall)
            {
                _responses.Enqueue(new Pending(Expect.Query, "", null, null, null));
            }
            return action;
        }
        var payload = Linear(in frame);
        switch (frame.Type)
        {
            case PgFrontend.Query:
                _responses.Enqueue(new Pending(Expect.Query, "", null, null, _gate!.MaskResult));
                break;
            case PgFrontend.Parse when PgMessageFields.TryReadParse(payload, out var name, out _):
                var statement = Encoding.UTF8.GetString(name);
                _statementMasks[statement] = _gate!.MaskResult;
                _describedStatements.Remove(statement);
                _responses.Enqueue(new Pending(Expect.Parse, statement, null, null, null));
                break;
            case PgFrontend.Bind when PgMessageFields.TryReadBindResult(payload, out var portal, out var source, out var formats):
                var portalName = Encoding.UTF8.GetString(portal);
                var codes = new short[formats.Length / 2];
                for (int i = 0; i < codes.Length; i++) codes[i] = BinaryPrimitives.ReadInt16BigEndian(formats[(i * 2)..]);
                _portals[portalName] = (Encoding.UTF8.GetString(source), codes);
                _describedPortals.Remove(portalName);
                _responses.Enqueue(new Pending(Expect.Bind, portalName, null, null, null));
                break;
            case PgFrontend.Describe when PgMessageFields.TryReadClose(payload, out byte kind, out var described):
                var describedName = Encoding.UTF8.GetString(described);
                if (kind == (byte)'S')
                {
                    _describedStatements.Add(describedName);
                    _responses.Enqueue(new Pending(Expect.DescribeStatement, describedName, null, null, _statementMasks.GetValueOrDefault(describedName)));
                }
                else
                {
                    _describedPortals.Add(describedName);
                    var ofPortal = _portals.GetValueOrDefault(describedName);
                    _responses.Enqueue(new Pending(Expect.DescribePortal, describedName, ofPortal.Statement, null, ofPortal.Statement is null ? null : _statementMasks.GetValueOrDefault(ofPortal.Statement)));
                }
                break;
            case PgFrontend.Execute when PgMessageFields.TryReadExecute(payload, out var executed):
                var executedName = Encoding.UTF8.GetString(executed);
                var bound = _portals.GetValueOrDefault(executedName);
                var context = bound.Statement is null ? null : _statementMasks.GetValueOrDefault(bound.Statement);
                bool inject = !_describedPortals.Contains(executedName) && (bound.Statement is null || !_describedStatements.Contains(bound.Statement));
                if (inject)
                {
                    _describedPortals.Add(executedName);
                    _responses.Enqueue(new Pending(Expect.InjectedDescribe, executedName, bound.Statement, null, context));
                }
                _responses.Enqueue(new Pending(Expect.Execute, executedName, bound.Statement, bound.Formats, context));
                _injectDescribe = inject;
                return inject ? PgFrameAction.Replace : action;
            case PgFrontend.Close when PgMessageFields.TryReadClose(payload, out byte closeKind, out var closed):
                _responses.Enqueue(new Pending(Expect.Close, Encoding.UTF8.GetString(closed), null, null, null, closeKind));
                break;
            case PgFrontend.Sync:
                _responses.Enqueue(new Pending(Expect.Sync, "", null, null, null));
                break;
        }
        return action;
    }

    /// <summary>Client side: the replacement for an Execute whose portal was never described: Describe, then the Execute itself.</summary>
    private void WriteDescribeThenExecute(in PgFrame frame, IBufferWriter<byte> output)
    {
        PgMessageFields.TryReadExecute(Linear(in frame), out var portal);
        PgMessageWriter.WriteDescribe(output, (byte)'P', portal);
        var header = output.GetSpan(5);
        header[0] = frame.Type;
        BinaryPrimitives.WriteInt32BigEndian(header[1..], frame.Length);
        output.Advance(5);
        foreach (var segment in frame.Payload)
        {
            output.Write(segment.Span);
        }
    }

    /// <summary>Upstream side, for sessions with masking: which result each message belongs to, and what to mask.</summary>
    private PgFrameAction InspectMasked(in PgFrame frame)
    {
        if (_suppressUntilReady && frame.Type != PgBackend.ReadyForQuery)
        {
            return PgFrameAction.Drop;
        }
        if (frame.Type == PgBackend.DataRow && _activePlan is { } current)
        {
            // The common case, once per row: the result's plan is known.
            if (current.HasMasks)
            {
                return PgFrameAction.Replace;
            }
            _recorder?.Rows(frame.Payload);
            return PgFrameAction.Forward;
        }
        _responses.TryPeek(out var front);
        switch (frame.Type)
        {
            case PgBackend.ParseComplete:
                Pop(Expect.Parse, out var parsed);
                _statementPlans.Remove(parsed.Name);
                return PgFrameAction.Forward;
            case PgBackend.BindComplete:
                Pop(Expect.Bind, out var bound);
                _portalPlans.Remove(bound.Name);
                return PgFrameAction.Forward;
            case PgBackend.CloseComplete:
                Pop(Expect.Close, out var closed);
                (closed.CloseKind == (byte)'S' ? _statementPlans : _portalPlans).Remove(closed.Name);
                return PgFrameAction.Forward;
            case PgBackend.RowDescription:
                return OnRowDescription(in frame, front);
            case PgBackend.NoData:
                if (front.Kind is Expect.DescribeStatement or Expect.DescribePortal or Expect.InjectedDescribe)
                {
                    _responses.TryDequeue(out _);
                    (front.Kind == Expect.DescribeStatement ? _statementPlans : _portalPlans)[front.Name] = MaskPlan.None;
                    return front.Kind == Expect.InjectedDescribe ? PgFrameAction.Drop : PgFrameAction.Forward;
                }
                return PgFrameAction.Forward;
            case PgBackend.DataRow:
                if (front.Kind == Expect.Execute && _activePlan is null)
                {
                    _activePlan = _portalPlans.GetValueOrDefault(front.Name)
                        ?? (front.Statement is not null && _statementPlans.TryGetValue(front.Statement, out var described) ? described.WithFormats(front.Formats ?? []) : null);
                    if (_activePlan is null)
                    {
                        // Every portal is described before its rows; rows without a plan mean the tracking is lost.
                        return PgFrameAction.Fail;
                    }
                }
                if (_activePlan is { HasMasks: true })
                {
                    return PgFrameAction.Replace;
                }
                _recorder?.Rows(frame.Payload);
                return PgFrameAction.Forward;
            case PgBackend.CopyOutResponse:
                if (front.Context?.Copy is { } copy)
                {
                    _activeCopy = MaskPlanner.ForCopy(copy, _hashKeys!);
                    _activeCopyFormat = copy.Format;
                    _copyHeaderPending = copy.Format.Header;
                }
                return PgFrameAction.Forward;
            case PgBackend.CopyData:
                if (_activeCopy is { HasMasks: true })
                {
                    if (_copyHeaderPending)
                    {
                        _copyHeaderPending = false;
                        return PgFrameAction.Forward;
                    }
                    return PgFrameAction.Replace;
                }
                return PgFrameAction.Forward;
            case PgBackend.CopyDone:
                _activeCopy = null;
                return PgFrameAction.Forward;
            case PgBackend.CommandComplete or PgBackend.EmptyQueryResponse or PgBackend.PortalSuspended:
                _activePlan = null;
                _activeCopy = null;
                if (front.Kind == Expect.Execute)
                {
                    _responses.TryDequeue(out _);
                }
                return PgFrameAction.Forward;
            case PgBackend.ErrorResponse:
                _activePlan = null;
                _activeCopy = null;
                bool scrub = front.Context?.Scrub == true;
                if (front.Kind != Expect.Query)
                {
                    // The server skips the rest of the cycle up to Sync.
                    while (_responses.TryPeek(out var skipped) && skipped.Kind != Expect.Sync)
                    {
                        _responses.TryDequeue(out _);
                    }
                }
                return scrub ? ScrubError(in frame) : PgFrameAction.Forward;
            case PgBackend.ReadyForQuery:
                _suppressUntilReady = false;
                _activePlan = null;
                _activeCopy = null;
                while (_responses.TryDequeue(out var done) && done.Kind is not (Expect.Sync or Expect.Query))
                {
                }
                return PgFrameAction.Forward;
            default:
                return PgFrameAction.Forward;
        }
    }

    private void Pop(Expect expected, out Pending pending)
    {
        if (_responses.TryPeek(out pending) && pending.Kind == expected)
        {
            _responses.TryDequeue(out _);
        }
    }

    private PgFrameAction OnRowDescription(in PgFrame frame, Pending front)
    {
        var context = front.Context;
        MaskPlan plan = MaskPlan.None;
        if (context is not null)
        {
            var built = MaskPlanner.Build(Linear(in frame), context, _target!.Catalog.Latest!, _hashKeys!, _unseenRelations, out uint unknown, out bool malformed);
            if (built is null)
            {
                if (malformed)
                {
                    return PgFrameAction.Fail;
                }
                _upstreamWait = LoadCatalogAsync(_target!.Catalog.NextGeneration, unknown);
                return PgFrameAction.Hold;
            }
            plan = built;
        }
        switch (front.Kind)
        {
            case Expect.DescribeStatement:
                _responses.TryDequeue(out _);
                _statementPlans[front.Name] = plan;
                break;
            case Expect.DescribePortal:
            case Expect.InjectedDescribe:
                _responses.TryDequeue(out _);
                _portalPlans[front.Name] = plan;
                if (front.Kind == Expect.InjectedDescribe)
                {
                    return PgFrameAction.Drop;
                }
                break;
            default:
                _activePlan = plan;
                break;
        }
        if (plan.Refusal is { } refusal)
        {
            var writer = new ArrayBufferWriter<byte>(256);
            PgMessageWriter.WriteError(writer, "ERROR", PgSqlState.InsufficientPrivilege, refusal);
            _replacement = writer.WrittenSpan.ToArray();
            _suppressUntilReady = true;
            return PgFrameAction.Replace;
        }
        return PgFrameAction.Forward;
    }

    /// <summary>An error of a statement that read masked columns keeps its code, not its text: a cast error would quote the value.</summary>
    private PgFrameAction ScrubError(in PgFrame frame)
    {
        var error = PgErrorFields.Parse(frame.Payload);
        var writer = new ArrayBufferWriter<byte>(256);
        PgMessageWriter.WriteError(writer, error.Severity.Length > 0 ? error.Severity : "ERROR", error.SqlState,
            $"the statement failed (SQLSTATE {error.SqlState}); the gateway withholds the server's message because the statement reads masked columns");
        _replacement = writer.WrittenSpan.ToArray();
        return PgFrameAction.Replace;
    }

    /// <summary>Upstream side: writes what <see cref="InspectMasked"/> asked to replace.</summary>
    private void WriteMaskedReplacement(in PgFrame frame, IBufferWriter<byte> output)
    {
        var payload = Linear(in frame);
        switch (frame.Type)
        {
            case PgBackend.DataRow:
                var plan = _activePlan!;
                var span = output.GetSpan(plan.MaxMaskedLength(payload.Length));
                int n = plan.WriteMasked(payload, span);
                if (n < 0)
                {
                    throw new PgProtocolException(PgSqlState.ProtocolViolation, "a DataRow from the upstream does not match its RowDescription");
                }
                _recorder?.Rows(span[5..n]);
                output.Advance(n);
                break;
            case PgBackend.CopyData:
                var copySpan = output.GetSpan(_activeCopy!.MaxMaskedLength(payload.Length));
                int m = _activeCopy.WriteMaskedCopyRow(payload, _activeCopyFormat!, copySpan);
                if (m < 0)
                {
                    throw new PgProtocolException(PgSqlState.ProtocolViolation, "a COPY row from the upstream does not have the expected columns");
                }
                output.Advance(m);
                break;
            default:
                output.Write(_replacement);
                _replacement = null;
                break;
        }
    }
}

using System.Buffers;
using System.Text;
using Appliance.Protocols.Postgres;

namespace Appliance.Postgres;

/// <summary>Why a statement was refused, for the client's ErrorResponse.</summary>
/// <remarks>With <see cref="Review"/> set the statement is not refused but needs approval; with <see cref="Ask"/> the session holds it.</remarks>
internal sealed record Refusal(string Message, int RuleIndex, Policy.CompiledRule? Review = null, string? ReviewClass = null, Approvals.ApprovalAsk? Ask = null,
    string SqlState = PgSqlState.InsufficientPrivilege);

internal sealed partial class PgSession
{
    private readonly PgStatementNames _preparedStatements = new();
    private PgStatementGate? _gate;
    private volatile bool _standardConformingStrings = true;

    /// <summary>Decides a simple Query message (all its statements); null when it may run.</summary>
    private Refusal? DecideQuery(in PgFrame frame)
    {
        _preparedStatements.Remove([]);
        ForgetReview(_reviewStatements, []);
        ForgetReview(_reviewPortals, []);
        if (!PgMessageFields.TryReadQuery(Linear(in frame), out var sql))
        {
            return new Refusal("malformed Query message", -1);
        }
        return DecideSql(sql);
    }

    /// <summary>Decides an extended-protocol message; null when it may pass.</summary>
    private Refusal? DecideExtended(in PgFrame frame)
    {
        var payload = Linear(in frame);
        switch (frame.Type)
        {
            case PgFrontend.Parse:
                if (!PgMessageFields.TryReadParse(payload, out var name, out var sql))
                {
                    return new Refusal("malformed Parse message", -1);
                }
                if (DecideSql(sql) is { } refusal)
                {
                    if (refusal.Ask is null)
                    {
                        return refusal;
                    }
                    // Parsing runs nothing: the statement is held at Execute, for each Bind of it.
                    (_reviewStatements ??= new(StringComparer.Ordinal))[Encoding.UTF8.GetString(name)] = refusal.Ask;
                }
                else
                {
                    ForgetReview(_reviewStatements, name);
                }
                _preparedStatements.Add(name);
                return null;
            case PgFrontend.Bind:
                if (!PgMessageFields.TryReadBind(payload, out var statement))
                {
                    return new Refusal("malformed Bind message", -1);
                }
                if (!_preparedStatements.Contains(statement))
                {
                    return new Refusal($"prepared statement \"{Escape(statement)}\" was not prepared through the gateway", -1);
                }
                TrackReviewedPortal(payload, statement);
                return null;
            case PgFrontend.Execute:
                return HeldExecute(payload);
            case PgFrontend.Close:
                if (PgMessageFields.TryReadClose(payload, out byte kind, out var closed))
                {
                    if (kind == (byte)'S')
                    {
                        _preparedStatements.Remove(closed);
                        ForgetReview(_reviewStatements, closed);
                    }
                    else
                    {
                        ForgetReview(_reviewPortals, closed);
                    }
                }
                return null;
            default:
                return null;
        }
    }

    /// <summary>The statement-policy hook: every statement text reaching the upstream passes here.</summary>
    private Refusal? DecideSql(ReadOnlySpan<byte> sql)
    {
#if MEASURE_WITHOUT_POLICY
        // load/run.sh's policy-ab case: the same gateway with nothing classified or decided.
        if (!sql.IsEmpty || sql.IsEmpty) return null;
#endif
        _gate!.StandardConformingStrings = _standardConformingStrings;
        var refusal = _gate.Decide(sql);
        (_gate.Masking, _gate.Relations) = (null, null);
        if (ReferenceEquals(refusal, PgStatementGate.StaleRelations))
        {
            // Not decided yet: decided (and counted) again once the catalog is read.
            return refusal;
        }
        _context.Metrics.StatementDecided(_target!.Name, refusal);
        return refusal?.Review is null ? refusal : refusal with { Ask = AskFor(refusal, sql) };
    }

    private byte[] _scratch = [];

    /// <summary>The payload as one span; copied only when it straddles buffer segments.</summary>
    private ReadOnlySpan<byte> Linear(in PgFrame frame)
    {
        if (frame.TryGetPayloadSpan(out var span))
        {
            return span;
        }
        var payload = frame.Payload;
        if (_scratch.Length < payload.Length)
        {
            _scratch = new byte[Math.Max(payload.Length, Math.Min(_scratch.Length * 2L, int.MaxValue))];
        }
        payload.CopyTo(_scratch);
        return _scratch.AsSpan(0, (int)payload.Length);
    }

    private void TrackParameter(ReadOnlySequence<byte> payload)
    {
        var reader = new SequenceReader<byte>(payload);
        if (reader.TryReadTo(out ReadOnlySpan<byte> name, 0) && reader.TryReadTo(out ReadOnlySpan<byte> value, 0)
            && name.SequenceEqual("standard_conforming_strings"u8))
        {
            _standardConformingStrings = value.SequenceEqual("on"u8);
        }
    }

    private static string Escape(ReadOnlySpan<byte> text) => PgStartupParameters.Escape(Encoding.UTF8.GetString(text));
}

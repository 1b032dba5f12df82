using System.Buffers;
using System.Text;
using Appliance.Approvals;
using Appliance.Protocols.Postgres;
using Microsoft.Extensions.Logging;

namespace Appliance.Postgres;

/// <summary>
/// Just-in-time approval in the session: a statement a review rule covers is held in the client → upstream
/// direction (a simple Query, or the Execute of a portal bound to a statement decided "review" at Parse) while
/// a request waits in the <see cref="ApprovalQueue"/>. The client is sent a NOTICE at once; messages behind
/// the held one wait in order; the held statement then runs, or is refused like any other refusal.
/// </summary>
internal sealed partial class PgSession
{
    private Dictionary<string, ApprovalAsk>? _reviewStatements;
    private Dictionary<string, ApprovalAsk>? _reviewPortals;
    private ApprovalAsk? _heldAsk;
    private ApprovalOutcome? _heldOutcome;
    private ApprovalRequest? _heldRequest;
    private PgClientWriter? _clientWriter;
    private readonly CancellationTokenSource _holdStop = new();

    private PgFrameAction Hold(ApprovalAsk ask)
    {
        _heldAsk = ask;
        return PgFrameAction.Hold;
    }

    /// <summary>The held message, inspected again once its request is decided.</summary>
    private PgFrameAction ReleaseHeld(in PgFrame frame)
    {
        var outcome = _heldOutcome!;
        var request = _heldRequest;
        _heldOutcome = null;
        _heldRequest = null;
        bool extended = frame.Type != PgFrontend.Query;
        if (frame.Type == PgFrontend.Execute && TryReadPortal(Linear(in frame), out var portal))
        {
            // One decision per Bind: further Executes of this portal (row limits) continue the same run.
            ForgetReview(_reviewPortals, portal);
        }
        if (!outcome.Approved)
        {
            return Refuse(new Refusal(outcome.Message, -1, SqlState: outcome.SqlState), extended);
        }
        if (request is not null)
        {
            var queue = _context.Approvals;
            _ = Task.Run(() => queue.Executed(request));
        }
        return PgFrameAction.Forward;
    }

    /// <summary>Called by the relay after <see cref="PgFrameAction.Hold"/>: files the request, tells the client, waits.</summary>
    private async ValueTask WaitHeldAsync()
    {
        var ask = _heldAsk!;
        _heldAsk = null;
        var queue = _context.Approvals;
        var submitted = await queue.SubmitAsync(ask);
        if (submitted.Refusal is { } refused)
        {
            _heldOutcome = new ApprovalOutcome(false, "statement refused: it needs approval, and " + refused);
            return;
        }
        var request = submitted.Request!;
        if (submitted.UsedPreApproval is { } pre && submitted.ApprovedNow)
        {
            _log.LogInformation("statement runs under pre-approval {PreApprovalId} (approval request {RequestId})", pre.Id, request.Id);
            await NoticeAsync($"approval request {request.Id}: {ask.StatementClass} on target \"{ask.Target}\" is pre-approved by {pre.By} (pre-approval {pre.Id}, use {pre.Used} of {pre.Uses}); running it");
            _heldRequest = request;
            _heldOutcome = submitted.Outcome!.Result;
            return;
        }
        // In the session's log too, so its lines and the approval's can be followed together.
        _log.LogInformation("statement held for approval request {RequestId}", request.Id);
        await NoticeAsync($"approval required: request {request.Id}: \"{ask.Requester}\" asks to run {ask.StatementClass} on target \"{ask.Target}\" "
            + $"(rule {request.Rule}, line {request.RuleLine}); it needs {request.ApprovalsNeeded - request.Approvals.Count} more approval(s) from role(s) "
            + $"{string.Join(", ", request.ApproverRoles)} within {ApprovalQueue.Format(request.Expires - request.Created)}. "
            + $"The statement waits. A reviewer approves with: appliance approvals approve {request.Id}");
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(_holdStop.Token);
        Volatile.Write(ref _holdCancel, cancel);
        try
        {
            _heldOutcome = await submitted.Outcome!.WaitAsync(cancel.Token);
        }
        catch (OperationCanceledException) when (!_holdStop.IsCancellationRequested)
        {
            queue.Cancel(request, "the client canceled the statement while it waited for approval");
            _log.LogInformation("approval request {RequestId} withdrawn: the client canceled the statement", request.Id);
            _heldOutcome = submitted.Outcome!.IsCompletedSuccessfully && submitted.Outcome.Result.Approved ? submitted.Outcome.Result
                : new ApprovalOutcome(false, "canceling statement due to user request (it was waiting for approval)", PgSqlState.QueryCanceled);
            return;
        }
        catch (OperationCanceledException)
        {
            queue.Abandon(request, "the session ended while the request waited");
            _heldOutcome = new ApprovalOutcome(false, "statement refused: the session ended while it waited for approval");
            return;
        }
        finally
        {
            Volatile.Write(ref _holdCancel, null);
        }
        _heldRequest = _heldOutcome.Approved ? request : null;
        _log.LogInformation("approval request {RequestId} {Outcome}", request.Id, _heldOutcome.Approved ? "approved: the statement runs" : "not approved: " + _heldOutcome.Message);
    }

    private async ValueTask NoticeAsync(string message)
    {
        var writer = new ArrayBufferWriter<byte>(512);
        PgMessageWriter.WriteNotice(writer, "NOTICE", "00000", message);
        try
        {
            await _clientWriter!.InjectAsync(writer.WrittenSpan.ToArray());
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // The client is gone; the relay notices and ends the session, which withdraws the request.
        }
    }

    private CancellationTokenSource? _holdCancel;

    /// <summary>
    /// A CancelRequest for this session: a statement waiting for approval is withdrawn (psql Ctrl-C). True when one
    /// was: then the upstream is not sent the cancel (it is not running the held statement, and a cancel arriving
    /// there would hit the next one).
    /// </summary>
    private bool CancelHeld()
    {
        try
        {
            if (Volatile.Read(ref _holdCancel) is { } held)
            {
                held.Cancel();
                return true;
            }
        }
        catch (ObjectDisposedException)
        {
        }
        return false;
    }

    /// <summary>Ends every wait of this session (the relay is stopping).</summary>
    private void StopHolding()
    {
        try
        {
            _holdStop.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private ApprovalAsk AskFor(Refusal review, ReadOnlySpan<byte> sql) => new()
    {
        Target = _target!.Name,
        Rule = review.RuleIndex,
        RuleLine = review.Review!.Config.Line,
        ApproverRoles = review.Review.Config.Approvers,
        ApprovalsNeeded = review.Review.Config.Approvals,
        Timeout = review.Review.Config.Timeout,
        Requester = _principal!.Subject,
        RequesterIssuer = _principal.Issuer,
        Claims = _principal.Claims,
        Statement = Encoding.UTF8.GetString(sql),
        Fingerprint = StatementFingerprint.Compute(sql, _standardConformingStrings),
        StatementClass = review.ReviewClass ?? "other",
        SessionId = _recorder?.SessionId.ToString() ?? _id.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Recorder = _recorder,
    };

    /// <summary>Bind: a portal of a statement that needs review needs it too (a new portal replaces an old one).</summary>
    private void TrackReviewedPortal(ReadOnlySpan<byte> bindPayload, ReadOnlySpan<byte> statement)
    {
        if (_reviewStatements is not { Count: > 0 } && _reviewPortals is not { Count: > 0 })
        {
            return;
        }
        if (!TryReadPortal(bindPayload, out var portal))
        {
            return;
        }
        if (_reviewStatements is not null && _reviewStatements.TryGetValue(Encoding.UTF8.GetString(statement), out var ask))
        {
            (_reviewPortals ??= new(StringComparer.Ordinal))[Encoding.UTF8.GetString(portal)] = ask;
        }
        else
        {
            ForgetReview(_reviewPortals, portal);
        }
    }

    /// <summary>Execute: held when its portal came from a statement that needs review.</summary>
    private Refusal? HeldExecute(ReadOnlySpan<byte> payload)
    {
        if (_reviewPortals is not { Count: > 0 } || !TryReadPortal(payload, out var portal)
            || !_reviewPortals.TryGetValue(Encoding.UTF8.GetString(portal), out var ask))
        {
            return null;
        }
        return new Refusal("needs approval", ask.Rule, Ask: ask);
    }

    private static void ForgetReview(Dictionary<string, ApprovalAsk>? reviews, ReadOnlySpan<byte> name)
    {
        if (reviews is { Count: > 0 })
        {
            reviews.Remove(Encoding.UTF8.GetString(name));
        }
    }

    /// <summary>The portal name: the first field of both Bind and Execute.</summary>
    private static bool TryReadPortal(ReadOnlySpan<byte> payload, out ReadOnlySpan<byte> portal)
    {
        int end = payload.IndexOf((byte)0);
        portal = end >= 0 ? payload[..end] : default;
        return end >= 0;
    }
}

using System.Security.Cryptography;
using Appliance.Configuration;
using Appliance.Identity;
using Microsoft.Extensions.Logging;

namespace Appliance.Approvals;

/// <summary>
/// The approval requests of this gateway: bounded, persisted in the approvals directory before anyone is
/// told about them, decided by reviewers (N distinct approvers, never the requester; one deny ends it) or
/// by their timeout. A waiting session holds only a task: no thread, no polling; the timeout is one timer.
/// Every step is logged and, while the session lives, recorded in its recording.
/// </summary>
public sealed class ApprovalQueue : IDisposable
{
    /// <summary>Longest reason a reviewer may give.</summary>
    public const int MaxReasonChars = 1000;

    /// <summary>Longest statement text kept in a request (the rest is cut, and says so).</summary>
    public const int MaxStatementChars = 16 * 1024;

    private readonly object _lock = new();
    private readonly Dictionary<string, ApprovalRequest> _requests = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PreApproval> _preApprovals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _pendingBySubject = new(StringComparer.Ordinal);
    private readonly ApprovalsConfig _config;
    private readonly ApprovalFiles _files;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private int _pending;

    public ApprovalQueue(ApprovalsConfig config, string stateDir, TimeProvider time, ILogger log)
    {
        _config = config;
        _time = time;
        _log = log;
        _files = new ApprovalFiles(config.Directory(stateDir));
        Load();
    }

    /// <summary>Told about each new pending request (the webhook); must not block.</summary>
    public Action<ApprovalRequest>? Announce { get; set; }

    public ApprovalsConfig Config => _config;

    public int PendingCount => Volatile.Read(ref _pending);

    /// <summary>Reads what a previous run left: requests still pending then have lost their session.</summary>
    private void Load()
    {
        var now = _time.GetUtcNow();
        foreach (var request in _files.LoadRequests(p => _log.LogWarning("approvals: skipping unreadable file {Problem}", p)))
        {
            if (request.State == ApprovalState.Pending)
            {
                request.State = ApprovalState.Orphaned;
                request.Decided = now;
                request.Detail = "the gateway restarted while the request waited; its session is gone";
                _files.SaveAsync(request).GetAwaiter().GetResult();
                _log.LogWarning("approval {RequestId} orphaned: the gateway restarted while it waited (requested by {Requester} on target {Target})",
                    request.Id, request.Requester, request.Target);
            }
            if (request.Decided is { } decided && now - decided > _config.KeepDecided)
            {
                _files.DeleteRequestAsync(request.Id).GetAwaiter().GetResult();
                continue;
            }
            _requests[request.Id] = request;
        }
        foreach (var pre in _files.LoadPreApprovals(p => _log.LogWarning("approvals: skipping unreadable file {Problem}", p)))
        {
            if (!pre.IsUsable(now) && now - pre.Expires > _config.KeepDecided)
            {
                _files.DeletePreApprovalAsync(pre.Id).GetAwaiter().GetResult();
                continue;
            }
            _preApprovals[pre.Id] = pre;
        }
    }

    /// <summary>
    /// Creates a request for <paramref name="ask"/> and persists it, or approves it at once with a matching
    /// pre-approval, or refuses it when the queue or the principal's share of it is full. Does the file work
    /// on the thread pool, never on the caller's (socket) thread.
    /// </summary>
    public async Task<SubmitResult> SubmitAsync(ApprovalAsk ask)
    {
        var now = _time.GetUtcNow();
        var request = new ApprovalRequest
        {
            Id = NewId(),
            State = ApprovalState.Pending,
            Target = ask.Target,
            Rule = ask.Rule + 1,
            RuleLine = ask.RuleLine,
            ApproverRoles = [.. ask.ApproverRoles],
            ApprovalsNeeded = Math.Max(1, ask.ApprovalsNeeded),
            Requester = ask.Requester,
            RequesterIssuer = ask.RequesterIssuer,
            Statement = ask.Statement.Length > MaxStatementChars ? ask.Statement[..MaxStatementChars] + "…(cut)" : ask.Statement,
            Fingerprint = ask.Fingerprint,
            StatementClass = ask.StatementClass,
            SessionId = ask.SessionId,
            Created = now,
            Expires = now + (ask.Timeout ?? _config.DefaultTimeout),
            Recorder = ask.Recorder,
            Waiter = new TaskCompletionSource<ApprovalOutcome>(TaskCreationOptions.RunContinuationsAsynchronously),
        };
        PreApproval? used = null;
        Task saved;
        lock (_lock)
        {
            PruneDecided(now);
            used = TakePreApproval(ask, now);
            if (used is not null)
            {
                request.Approvals.Add(new ApprovalVote(used.By, used.ByIssuer, used.Reason, now, used.Id));
            }
            if (request.Approvals.Count < request.ApprovalsNeeded)
            {
                if (_pending >= _config.MaxPending)
                {
                    GiveBack(used);
                    return new SubmitResult(null, null, $"the approval queue is full ({_config.MaxPending} requests pending); try again later");
                }
                int mine = _pendingBySubject.GetValueOrDefault(ask.Requester);
                if (mine >= _config.MaxPendingPerPrincipal)
                {
                    GiveBack(used);
                    return new SubmitResult(null, null,
                        $"principal \"{ask.Requester}\" already has {mine} approval requests pending (limit {_config.MaxPendingPerPrincipal}); wait for them to be decided");
                }
                _pending++;
                _pendingBySubject[ask.Requester] = mine + 1;
            }
            else
            {
                request.State = ApprovalState.Approved;
                request.Decided = now;
            }
            _requests[request.Id] = request;
            // Queued under the lock: a decision persisted later is written after this version.
            saved = used is null ? _files.SaveAsync(request) : Task.WhenAll(_files.SaveAsync(used), _files.SaveAsync(request));
        }

        try
        {
            await saved;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not persisted means it could be lost: fail closed.
            lock (_lock)
            {
                _requests.Remove(request.Id);
                if (request.State == ApprovalState.Pending) ReleasePending(request);
                GiveBack(used);
            }
            _log.LogError("approval request for {Requester} refused: it cannot be persisted ({Error})", ask.Requester, e.Message);
            return new SubmitResult(null, null, "the approval request cannot be stored by the gateway; it was refused");
        }

        Step(request, "requested", ask.Requester,
            $"{request.StatementClass} on target {request.Target} by rule {request.Rule} (line {request.RuleLine}); needs {request.ApprovalsNeeded} of [{string.Join(", ", request.ApproverRoles)}] within {Format(request.Expires - now)}; fingerprint {request.Fingerprint ?? "none"}");
        if (used is not null)
        {
            Step(request, "approved", used.By, $"pre-approval {used.Id} (use {used.Used} of {used.Uses})" + (used.Reason is { Length: > 0 } r ? ": " + r : ""));
        }
        if (request.State == ApprovalState.Approved)
        {
            request.Waiter!.TrySetResult(new ApprovalOutcome(true, $"pre-approved by {used!.By}"));
            return new SubmitResult(request, request.Waiter.Task, null, used);
        }

        // The timeout is one timer per request, not a loop: a waiting session costs a task and a timer entry.
        var timer = _time.CreateTimer(OnTimeout, request, request.Expires - now, Timeout.InfiniteTimeSpan);
        lock (_lock)
        {
            if (request.State == ApprovalState.Pending) request.Timer = timer;
            else timer.Dispose();
        }
        Announce?.Invoke(request.Snapshot());
        return new SubmitResult(request, request.Waiter!.Task, null, used);
    }

    private void OnTimeout(object? state)
    {
        var request = (ApprovalRequest)state!;
        lock (_lock)
        {
            if (request.State != ApprovalState.Pending)
            {
                return;
            }
            request.State = ApprovalState.Expired;
            request.Decided = _time.GetUtcNow();
            request.Detail = $"no decision within {Format(request.Expires - request.Created)}";
            ReleasePending(request);
        }
        Finish(request, "expired", "gateway", request.Detail!,
            new ApprovalOutcome(false, $"statement refused: approval request {request.Id} expired: {request.Detail}"));
    }

    /// <summary>A reviewer approves; the request is approved once it has its number of distinct approvers.</summary>
    public ReviewResult Approve(string id, Principal reviewer, string? reason)
    {
        ApprovalRequest request;
        bool decided;
        lock (_lock)
        {
            if (Check(id, reviewer, approving: true) is { } problem)
            {
                return problem;
            }
            request = _requests[id];
            request.Approvals.Add(new ApprovalVote(reviewer.Subject, reviewer.Issuer, reason, _time.GetUtcNow()));
            decided = request.Approvals.Count >= request.ApprovalsNeeded;
            if (decided)
            {
                request.State = ApprovalState.Approved;
                request.Decided = _time.GetUtcNow();
                ReleasePending(request);
            }
        }
        string detail = $"approval {request.Approvals.Count} of {request.ApprovalsNeeded}" + (reason is { Length: > 0 } ? ": " + reason : "");
        if (decided)
        {
            Finish(request, "approved", reviewer.Subject, detail, new ApprovalOutcome(true, $"approved by {string.Join(", ", request.Approvals.Select(a => a.Subject))}"));
        }
        else
        {
            Persist(request);
            Step(request, "approval", reviewer.Subject, detail);
        }
        return new ReviewResult(ReviewStatus.Done, decided ? "approved" : $"approval recorded; {request.ApprovalsNeeded - request.Approvals.Count} more needed", Snapshot(id));
    }

    /// <summary>A reviewer denies: one deny ends the request, and the session is refused with the reason.</summary>
    public ReviewResult Deny(string id, Principal reviewer, string reason)
    {
        ApprovalRequest request;
        lock (_lock)
        {
            if (Check(id, reviewer, approving: false) is { } problem)
            {
                return problem;
            }
            request = _requests[id];
            request.State = ApprovalState.Denied;
            request.Decided = _time.GetUtcNow();
            request.Denial = new ApprovalVote(reviewer.Subject, reviewer.Issuer, reason, request.Decided.Value);
            ReleasePending(request);
        }
        Finish(request, "denied", reviewer.Subject, reason,
            new ApprovalOutcome(false, $"statement refused: approval request {request.Id} was denied by {reviewer.Subject}: {reason}"));
        return new ReviewResult(ReviewStatus.Done, "denied", Snapshot(id));
    }

    private ReviewResult? Check(string id, Principal reviewer, bool approving)
    {
        if (!_requests.TryGetValue(id, out var request))
        {
            return new ReviewResult(ReviewStatus.NotFound, $"no approval request {id}");
        }
        if (request.State != ApprovalState.Pending)
        {
            return new ReviewResult(ReviewStatus.NotPending, $"approval request {id} is already {Name(request.State)}", request.Snapshot());
        }
        if (!reviewer.Roles.Any(request.ApproverRoles.Contains))
        {
            return new ReviewResult(ReviewStatus.NotApprover,
                $"principal \"{reviewer.Subject}\" has none of the approver roles of this request ({string.Join(", ", request.ApproverRoles)})");
        }
        if (approving && string.Equals(reviewer.Subject, request.Requester, StringComparison.Ordinal))
        {
            return new ReviewResult(ReviewStatus.SelfApproval, "a requester cannot approve their own request");
        }
        if (approving && request.Approvals.Any(a => string.Equals(a.Subject, reviewer.Subject, StringComparison.Ordinal)))
        {
            return new ReviewResult(ReviewStatus.AlreadyVoted, $"principal \"{reviewer.Subject}\" already approved this request; approvals must come from distinct reviewers");
        }
        return null;
    }

    /// <summary>The waiting session ended (client gone, gateway stopping): nothing will run.</summary>
    public void Abandon(ApprovalRequest request, string why) => End(request, ApprovalState.Orphaned, "gateway", why);

    /// <summary>The client canceled the waiting statement: nothing will run.</summary>
    public void Cancel(ApprovalRequest request, string why) => End(request, ApprovalState.Canceled, request.Requester, why);

    private void End(ApprovalRequest request, ApprovalState state, string actor, string why)
    {
        lock (_lock)
        {
            if (request.State != ApprovalState.Pending)
            {
                return;
            }
            request.State = state;
            request.Decided = _time.GetUtcNow();
            request.Detail = why;
            ReleasePending(request);
        }
        Finish(request, Name(state), actor, why, new ApprovalOutcome(false, "statement refused: " + why));
    }

    /// <summary>Every pending request ends as orphaned (the gateway is stopping).</summary>
    public void AbandonAll(string why)
    {
        List<ApprovalRequest> pending;
        lock (_lock)
        {
            pending = _requests.Values.Where(r => r.State == ApprovalState.Pending).ToList();
        }
        foreach (var request in pending)
        {
            Abandon(request, why);
        }
    }

    /// <summary>The approved statement was passed on to the database.</summary>
    public void Executed(ApprovalRequest request)
    {
        lock (_lock)
        {
            request.Executed = true;
        }
        Persist(request);
        Step(request, "executed", request.Requester, "the approved statement was sent to the database");
    }

    /// <summary>The webhook delivered the announcement.</summary>
    public void Notified(string id, string detail)
    {
        ApprovalRequest? request;
        lock (_lock)
        {
            if (!_requests.TryGetValue(id, out request))
            {
                return;
            }
            request.Notified = true;
        }
        Persist(request);
        Step(request, "notified", "webhook", detail);
    }

    public IReadOnlyList<ApprovalRequest> List(ApprovalState? state = null)
    {
        lock (_lock)
        {
            return _requests.Values.Where(r => state is null || r.State == state).OrderBy(r => r.Created).Select(r => r.Snapshot()).ToList();
        }
    }

    public ApprovalRequest? Snapshot(string id)
    {
        lock (_lock)
        {
            return _requests.TryGetValue(id, out var r) ? r.Snapshot() : null;
        }
    }

    /// <summary>Creates a pre-approval; <paramref name="problem"/> says why not.</summary>
    public PreApproval? PreApprove(Principal by, string target, string? fingerprint, string? claimName, string? claimValue, int uses, TimeSpan ttl, string? reason, out string? problem)
    {
        problem = null;
        if ((fingerprint is null) == (claimName is null))
        {
            problem = "give exactly one of fingerprint (or sql) and claim";
            return null;
        }
        if (claimName is not null && string.IsNullOrEmpty(claimValue))
        {
            problem = "a claim pre-approval needs a claim value";
            return null;
        }
        if (uses < 1 || uses > _config.PreApprovalMaxUses)
        {
            problem = $"uses must be from 1 to {_config.PreApprovalMaxUses}";
            return null;
        }
        if (ttl <= TimeSpan.Zero || ttl > _config.PreApprovalMaxTtl)
        {
            problem = $"ttl must be longer than 0s and at most {Format(_config.PreApprovalMaxTtl)}";
            return null;
        }
        var now = _time.GetUtcNow();
        var pre = new PreApproval
        {
            Id = NewId(), Target = target, Fingerprint = fingerprint?.ToLowerInvariant(), ClaimName = claimName, ClaimValue = claimValue,
            Uses = uses, Created = now, Expires = now + ttl, By = by.Subject, ByIssuer = by.Issuer, ByRoles = [.. by.Roles], Reason = reason,
        };
        _files.SaveAsync(pre).GetAwaiter().GetResult();
        lock (_lock)
        {
            _preApprovals[pre.Id] = pre;
        }
        _log.LogInformation("approval step {Step} for pre-approval {PreApprovalId} by {Actor}: target {Target}, {Binding}, {Uses} uses until {Expires}",
            "pre-approved", pre.Id, by.Subject, target, fingerprint is not null ? "fingerprint " + pre.Fingerprint : $"claim {claimName}", uses, pre.Expires);
        return pre.Snapshot();
    }

    public IReadOnlyList<PreApproval> PreApprovals()
    {
        lock (_lock)
        {
            return _preApprovals.Values.OrderBy(p => p.Created).Select(p => p.Snapshot()).ToList();
        }
    }

    public PreApproval? Revoke(string id, Principal by)
    {
        PreApproval? pre;
        lock (_lock)
        {
            if (!_preApprovals.TryGetValue(id, out pre)) return null;
            pre.Revoked = true;
        }
        Task saved;
        lock (_lock)
        {
            saved = _files.SaveAsync(pre);
        }
        saved.GetAwaiter().GetResult();
        _log.LogInformation("approval step {Step} for pre-approval {PreApprovalId} by {Actor}", "revoked", id, by.Subject);
        return pre.Snapshot();
    }

    /// <summary>A usable pre-approval covering the ask, with one use taken; null if none.</summary>
    private PreApproval? TakePreApproval(ApprovalAsk ask, DateTimeOffset now)
    {
        foreach (var pre in _preApprovals.Values.OrderBy(p => p.Created))
        {
            if (!pre.IsUsable(now) || !string.Equals(pre.Target, ask.Target, StringComparison.Ordinal)
                || string.Equals(pre.By, ask.Requester, StringComparison.Ordinal) || !pre.ByRoles.Any(ask.ApproverRoles.Contains))
            {
                continue;
            }
            bool fits = pre.Fingerprint is not null
                ? ask.Fingerprint is not null && CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(pre.Fingerprint), System.Text.Encoding.ASCII.GetBytes(ask.Fingerprint))
                : pre.ClaimName is not null && ask.Claims.TryGetValue(pre.ClaimName, out var values) && values.Contains(pre.ClaimValue!, StringComparer.Ordinal);
            if (fits)
            {
                pre.Used++;
                return pre;
            }
        }
        return null;
    }

    private static void GiveBack(PreApproval? used)
    {
        if (used is not null) used.Used--;
    }

    private void ReleasePending(ApprovalRequest request)
    {
        _pending--;
        request.Timer?.Dispose();
        request.Timer = null;
        if (_pendingBySubject.TryGetValue(request.Requester, out int n))
        {
            if (n <= 1) _pendingBySubject.Remove(request.Requester);
            else _pendingBySubject[request.Requester] = n - 1;
        }
    }

    private void PruneDecided(DateTimeOffset now)
    {
        if (_requests.Count < 64) return;
        List<string>? old = null;
        foreach (var r in _requests.Values)
        {
            if (r.Decided is { } d && now - d > _config.KeepDecided) (old ??= []).Add(r.Id);
        }
        if (old is null) return;
        foreach (var id in old)
        {
            _requests.Remove(id);
            _ = _files.DeleteRequestAsync(id);
        }
    }

    /// <summary>Logs and records the final state, and releases the waiting session once that state is on disk.</summary>
    private void Finish(ApprovalRequest request, string step, string actor, string detail, ApprovalOutcome outcome)
    {
        var saved = Persist(request);
        Step(request, step, actor, detail);
        saved.ContinueWith(static (_, state) =>
        {
            var (request, outcome) = ((ApprovalRequest, ApprovalOutcome))state!;
            request.Waiter?.TrySetResult(outcome);
        }, (request, outcome), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Queues the request's current state for the disk; completes when durable (failures are logged).</summary>
    private Task Persist(ApprovalRequest request)
    {
        Task saved;
        lock (_lock)
        {
            saved = _files.SaveAsync(request);
        }
        return saved.ContinueWith(t =>
        {
            if (t.Exception is { } e)
            {
                _log.LogError("approval {RequestId}: cannot persist its state ({Error})", request.Id, e.InnerException?.Message);
            }
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private void Step(ApprovalRequest request, string step, string actor, string detail)
    {
        _log.LogInformation("approval step {Step} for request {RequestId} by {Actor}: {Detail}", step, request.Id, actor, detail);
        request.Recorder?.Approval(step, request.Id, actor, detail);
    }

    public static string Name(ApprovalState state) => state.ToString().ToLowerInvariant();

    public static string Format(TimeSpan span) => DurationText.Format(span);

    private static string NewId() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var r in _requests.Values)
            {
                r.Timer?.Dispose();
            }
        }
        // What is queued for the disk is written before the queue goes (decisions taken while stopping).
        _files.CloseAsync().Wait(TimeSpan.FromSeconds(10));
    }
}

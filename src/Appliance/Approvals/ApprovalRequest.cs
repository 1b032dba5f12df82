using System.Text.Json.Serialization;
using Appliance.Recording;

namespace Appliance.Approvals;

/// <summary>
/// One request for approval, as persisted and as listed by the admin API. Mutated only by
/// <see cref="ApprovalQueue"/> under its lock.
/// </summary>
public sealed class ApprovalRequest
{
    public string Id { get; set; } = "";
    public ApprovalState State { get; set; }
    public string Target { get; set; } = "";
    public int Rule { get; set; }
    public int RuleLine { get; set; }
    public List<string> ApproverRoles { get; set; } = [];
    public int ApprovalsNeeded { get; set; } = 1;
    public string Requester { get; set; } = "";
    public string RequesterIssuer { get; set; } = "";
    public string Statement { get; set; } = "";
    public string? Fingerprint { get; set; }
    public string StatementClass { get; set; } = "";
    public string? SessionId { get; set; }
    public DateTimeOffset Created { get; set; }
    public DateTimeOffset Expires { get; set; }
    public DateTimeOffset? Decided { get; set; }
    public List<ApprovalVote> Approvals { get; set; } = [];
    public ApprovalVote? Denial { get; set; }
    /// <summary>Why it ended when no reviewer ended it (expired, orphaned).</summary>
    public string? Detail { get; set; }
    /// <summary>The approved statement was passed on to the database.</summary>
    public bool Executed { get; set; }
    public bool Notified { get; set; }

    [JsonIgnore] internal TaskCompletionSource<ApprovalOutcome>? Waiter { get; set; }
    [JsonIgnore] internal ITimer? Timer { get; set; }
    [JsonIgnore] internal SessionRecorder? Recorder { get; set; }

    /// <summary>A copy for callers outside the queue's lock (API answers).</summary>
    public ApprovalRequest Snapshot() => new()
    {
        Id = Id, State = State, Target = Target, Rule = Rule, RuleLine = RuleLine, ApproverRoles = [.. ApproverRoles],
        ApprovalsNeeded = ApprovalsNeeded, Requester = Requester, RequesterIssuer = RequesterIssuer, Statement = Statement,
        Fingerprint = Fingerprint, StatementClass = StatementClass, SessionId = SessionId, Created = Created, Expires = Expires,
        Decided = Decided, Approvals = [.. Approvals], Denial = Denial, Detail = Detail, Executed = Executed, Notified = Notified,
    };
}

using Appliance.Recording;

namespace Appliance.Approvals;

/// <summary>What a session asks a reviewer for: who, which statement, under which review rule.</summary>
public sealed class ApprovalAsk
{
    public required string Target { get; init; }
    public required int Rule { get; init; }
    public required int RuleLine { get; init; }
    public required IReadOnlyList<string> ApproverRoles { get; init; }
    public required int ApprovalsNeeded { get; init; }
    public TimeSpan? Timeout { get; init; }
    public required string Requester { get; init; }
    public required string RequesterIssuer { get; init; }
    public required IReadOnlyDictionary<string, IReadOnlyList<string>> Claims { get; init; }
    public required string Statement { get; init; }
    public string? Fingerprint { get; init; }
    public required string StatementClass { get; init; }
    public string? SessionId { get; init; }
    public SessionRecorder? Recorder { get; init; }
}

namespace Appliance.Approvals;

/// <summary>One reviewer's decision on a request: who (subject and issuer), why, and when.</summary>
public sealed record ApprovalVote(string Subject, string Issuer, string? Reason, DateTimeOffset Time, string? PreApproval = null);

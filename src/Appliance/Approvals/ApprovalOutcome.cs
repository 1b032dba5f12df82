namespace Appliance.Approvals;

/// <summary>What a waiting session is told: run the statement, or refuse it with <see cref="Message"/>.</summary>
public sealed record ApprovalOutcome(bool Approved, string Message);

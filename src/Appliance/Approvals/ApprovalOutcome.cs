namespace Appliance.Approvals;

/// <summary>What a waiting session is told: run the statement, or refuse it with <see cref="Message"/> (and <see cref="SqlState"/>).</summary>
public sealed record ApprovalOutcome(bool Approved, string Message, string SqlState = "42501");

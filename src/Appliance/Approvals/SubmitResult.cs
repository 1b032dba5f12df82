namespace Appliance.Approvals;

/// <summary>
/// What submitting a request gave: a refusal (queue full, too many pending), an approval on the spot (a
/// pre-approval covered it), or a pending request and the task that completes with its outcome.
/// </summary>
public sealed record SubmitResult(ApprovalRequest? Request, Task<ApprovalOutcome>? Outcome, string? Refusal, PreApproval? UsedPreApproval = null)
{
    public bool ApprovedNow => Refusal is null && Outcome is { IsCompletedSuccessfully: true, Result.Approved: true };
}

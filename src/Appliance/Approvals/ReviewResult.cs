namespace Appliance.Approvals;

/// <summary>How a reviewer's approve or deny went.</summary>
public enum ReviewStatus
{
    /// <summary>Recorded; the request may now be decided (see the request's state).</summary>
    Done,
    NotFound,
    /// <summary>The request was already decided (or expired, or orphaned).</summary>
    NotPending,
    /// <summary>The reviewer has none of the rule's approver roles.</summary>
    NotApprover,
    /// <summary>The reviewer is the requester.</summary>
    SelfApproval,
    /// <summary>The reviewer already approved this request.</summary>
    AlreadyVoted,
}

public sealed record ReviewResult(ReviewStatus Status, string Message, ApprovalRequest? Request = null);

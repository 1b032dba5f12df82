namespace Appliance.Recording;

/// <summary>A step of a just-in-time approval (placeholder until approvals land): requested, approved, denied, expired.</summary>
public sealed record ApprovalRecord(Guid SessionId, ulong Sequence, DateTimeOffset Time, string Event, string RequestId, string Actor, string Detail)
    : RecordedEvent(SessionId, Sequence, Time);

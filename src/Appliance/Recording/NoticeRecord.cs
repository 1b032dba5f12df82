namespace Appliance.Recording;

/// <summary>A notice the client received (from the server or the gateway).</summary>
public sealed record NoticeRecord(Guid SessionId, ulong Sequence, DateTimeOffset Time, string Severity, string SqlState, string Message)
    : RecordedEvent(SessionId, Sequence, Time);

namespace Appliance.Recording;

/// <summary>Why the session ended, and how much it carried.</summary>
public sealed record SessionEndRecord(Guid SessionId, ulong Sequence, DateTimeOffset Time, string Reason, long BytesFromClient,
    long BytesFromServer, long Statements)
    : RecordedEvent(SessionId, Sequence, Time);

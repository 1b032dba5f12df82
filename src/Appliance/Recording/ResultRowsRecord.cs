namespace Appliance.Recording;

/// <summary>Result rows as the client received them (already masked): PostgreSQL DataRow message bodies.</summary>
public sealed record ResultRowsRecord(Guid SessionId, ulong Sequence, DateTimeOffset Time, IReadOnlyList<byte[]> Rows)
    : RecordedEvent(SessionId, Sequence, Time);

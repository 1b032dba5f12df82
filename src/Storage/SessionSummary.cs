namespace Appliance.Storage;

/// <summary>What the indexes say about one session: its time span, how many records, and where they are.</summary>
public sealed record SessionSummary(Guid SessionId, DateTimeOffset FirstRecord, DateTimeOffset LastRecord, long RecordCount, IReadOnlyList<long> Segments);

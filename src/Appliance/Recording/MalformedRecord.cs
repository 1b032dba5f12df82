namespace Appliance.Recording;

/// <summary>A record this version cannot decode (an unknown type, or a payload that does not parse).</summary>
public sealed record MalformedRecord(Guid SessionId, ulong Sequence, DateTimeOffset Time, byte Type, int Length)
    : RecordedEvent(SessionId, Sequence, Time);

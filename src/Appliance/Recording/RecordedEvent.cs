namespace Appliance.Recording;

/// <summary>One decoded record of a session, with what every record carries.</summary>
public abstract record RecordedEvent(Guid SessionId, ulong Sequence, DateTimeOffset Time);

namespace Appliance.Storage;

/// <summary>Something the store reports to its host (the store has no logging of its own).</summary>
/// <param name="Segment">The segment file concerned, when there is one.</param>
/// <param name="Offset">Byte offset in <paramref name="Segment"/>, or -1.</param>
public sealed record StoreEvent(StoreEventKind Kind, StoreEventSeverity Severity, string Message, string? Segment = null, long Offset = -1)
{
    public override string ToString() => Segment is null ? Message : $"{Message} ({Segment}{(Offset >= 0 ? $" at offset {Offset}" : "")})";
}

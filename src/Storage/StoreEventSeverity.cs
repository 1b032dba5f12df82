namespace Appliance.Storage;

/// <summary>How much a <see cref="StoreEvent"/> matters (maps onto log levels).</summary>
public enum StoreEventSeverity
{
    Information,
    Warning,
    Error,
    Critical,
}

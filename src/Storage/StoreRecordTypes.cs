namespace Appliance.Storage;

/// <summary>Record types the store reserves for itself (240 to 255); the application uses 1 to 239.</summary>
public static class StoreRecordTypes
{
    /// <summary>Largest type an application may append.</summary>
    public const byte MaxApplicationType = 239;

    /// <summary>A segment was deleted by retention; the payload is a <see cref="SegmentDeletion"/>.</summary>
    public const byte SegmentDeleted = 240;

    /// <summary>True for the store's own records.</summary>
    public static bool IsStoreRecord(byte type) => type > MaxApplicationType;
}

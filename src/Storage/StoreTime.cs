namespace Appliance.Storage;

/// <summary>Timestamps in the store: microseconds since the Unix epoch, UTC.</summary>
public static class StoreTime
{
    /// <summary>Microseconds since 1970-01-01T00:00Z.</summary>
    public static long ToUnixMicroseconds(DateTimeOffset time) =>
        (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (TimeSpan.TicksPerMillisecond / 1000);

    /// <summary>The instant <paramref name="unixMicroseconds"/> names, in UTC.</summary>
    public static DateTimeOffset FromUnixMicroseconds(long unixMicroseconds) =>
        DateTimeOffset.UnixEpoch.AddTicks(unixMicroseconds * (TimeSpan.TicksPerMillisecond / 1000));
}

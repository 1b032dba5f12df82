namespace Appliance.Storage.Tests;

/// <summary>A wall clock that moves only when told to (timestamps for intervals stay real).</summary>
internal sealed class ManualTimeProvider(DateTimeOffset now) : TimeProvider
{
    private DateTimeOffset _now = now;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

namespace Appliance.Storage;

/// <summary>Outcome of <see cref="RecordRing.TryWrite"/>.</summary>
internal enum RingWrite
{
    Written,
    Full,
    Closed,
}

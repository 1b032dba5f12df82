namespace Appliance.Storage;

/// <summary>What every record carries besides its payload.</summary>
/// <param name="Type">The record's type: 1 to 239 for the application, 240 and up for the store itself.</param>
/// <param name="SessionId">The session the record belongs to (<see cref="Guid.Empty"/> for store records).</param>
/// <param name="Sequence">The record's number within its session.</param>
/// <param name="Timestamp">When it happened, in <see cref="StoreTime">Unix microseconds</see>.</param>
public readonly record struct RecordHeader(byte Type, Guid SessionId, ulong Sequence, long Timestamp);

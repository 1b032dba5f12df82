namespace Appliance.Storage;

/// <summary>Writer counters since the store was opened.</summary>
/// <param name="BytesWritten">Frame bytes written (compressed, with headers).</param>
/// <param name="RawBytesWritten">Record bytes before compression.</param>
public readonly record struct StoreStatistics(long RecordsWritten, long BlocksWritten, long BytesWritten, long RawBytesWritten, long Syncs);

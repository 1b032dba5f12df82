namespace Appliance.Recording;

/// <summary>How a statement ended: its command tag and row count, or an error.</summary>
/// <param name="Rows">Rows affected or returned, or -1 when unknown.</param>
/// <param name="SqlState">The SQLSTATE of an error; empty on success.</param>
/// <param name="RowsRecorded">Rows recorded (in <see cref="ResultRowsRecord"/>s before this one).</param>
/// <param name="RowsTruncated">True when rows were left out because of <c>record.max_result_bytes</c>.</param>
public sealed record ResultRecord(Guid SessionId, ulong Sequence, DateTimeOffset Time, string CommandTag, long Rows, string SqlState,
    string Message, long RowsRecorded, bool RowsTruncated)
    : RecordedEvent(SessionId, Sequence, Time)
{
    public bool IsError => SqlState.Length > 0;
}

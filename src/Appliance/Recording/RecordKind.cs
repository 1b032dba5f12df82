namespace Appliance.Recording;

/// <summary>The record types of a recorded session (the store's record type byte).</summary>
public enum RecordKind : byte
{
    SessionStart = 1,
    Statement = 2,
    Result = 3,
    ResultRows = 4,
    Notice = 5,
    Approval = 6,
    SessionEnd = 7,
}

namespace Appliance.Recording;

/// <summary>A statement as the client sent it, and what policy decided.</summary>
/// <param name="Text">The statement text (UTF-8 as sent), cut to the record limit when <paramref name="TextTruncated"/>.</param>
/// <param name="TextLength">The length of the whole text in bytes.</param>
/// <param name="Rule">The index of the deciding rule in the target's rules, or -1 (default deny, or no rule).</param>
public sealed record StatementRecord(Guid SessionId, ulong Sequence, DateTimeOffset Time, byte[] Text, bool TextTruncated, long TextLength,
    string StatementClass, IReadOnlyList<string> Tables, string Decision, int Rule)
    : RecordedEvent(SessionId, Sequence, Time);

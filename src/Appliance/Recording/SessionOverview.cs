namespace Appliance.Recording;

/// <summary>One session as <c>appliance sessions list</c> shows it, read from its records.</summary>
public sealed class SessionOverview
{
    public required Guid SessionId { get; init; }
    public SessionStartRecord? Start { get; init; }
    public SessionEndRecord? End { get; init; }
    public required DateTimeOffset FirstRecord { get; init; }
    public required DateTimeOffset LastRecord { get; init; }
    public long Statements { get; init; }
    public long Denied { get; init; }
    public long Errors { get; init; }

    public string Subject => Start?.Subject ?? "";

    public string Target => Start?.Target ?? "";

    public DateTimeOffset Started => Start?.Time ?? FirstRecord;

    public TimeSpan Duration => (End?.Time ?? LastRecord) - Started;

    /// <summary>How it ended: the end record's reason, or that there is none.</summary>
    public string Outcome => End is { } end ? end.Reason : "no end record (still open, or the gateway stopped first)";
}

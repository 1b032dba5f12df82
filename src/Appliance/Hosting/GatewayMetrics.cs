using System.Diagnostics.Metrics;
using Appliance.Postgres;

namespace Appliance.Hosting;

/// <summary>
/// The gateway's metrics, on the meter <c>Appliance</c> (System.Diagnostics.Metrics), one per host:
/// <c>dotnet-counters monitor -n appliance --counters Appliance</c> shows them live, and any OpenTelemetry
/// collector can read them. Tags stay few and bounded (target names from the configuration, decisions,
/// outcomes, SQLSTATEs): no principal, no statement text. Recording a measurement allocates nothing.
/// </summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "Appliance";

    private readonly UpDownCounter<long> _active;
    private readonly Counter<long> _sessions;
    private readonly Counter<long> _statements;
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _recordingHolds;

    public GatewayMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _active = meter.CreateUpDownCounter<long>("appliance.sessions.active", "{session}", "Sessions past login, relaying now, by target.");
        _sessions = meter.CreateCounter<long>("appliance.sessions", "{session}",
            "Sessions that ended, by target, outcome (completed; failed after login; refused at login; abandoned by the client during login) and the SQLSTATE of the FATAL sent, if any.");
        _statements = meter.CreateCounter<long>("appliance.statements", "{statement}", "Statements decided, by target and decision (allow, deny, review).");
        _bytes = meter.CreateCounter<long>("appliance.relayed", "By", "Bytes relayed by ended sessions, by target and direction (from_client, from_upstream).");
        _recordingHolds = meter.CreateCounter<long>("appliance.recording.holds", "{hold}",
            "Times a session held its next message because its records waited for room in the store (record.when_full: block).");
    }

    public void SessionStarted(string target) => _active.Add(1, new KeyValuePair<string, object?>("target", target));

    /// <param name="target">Null when the session ended before it was routed.</param>
    /// <param name="started">It got past login (counted in <c>appliance.sessions.active</c>).</param>
    /// <param name="sqlState">The FATAL the client was sent, if any.</param>
    public void SessionEnded(string? target, bool started, string? sqlState, long bytesFromClient, long bytesFromUpstream)
    {
        var targetTag = new KeyValuePair<string, object?>("target", target ?? "(none)");
        if (started)
        {
            _active.Add(-1, targetTag);
            _bytes.Add(bytesFromClient, targetTag, new KeyValuePair<string, object?>("direction", "from_client"));
            _bytes.Add(bytesFromUpstream, targetTag, new KeyValuePair<string, object?>("direction", "from_upstream"));
        }
        var outcome = (started, sqlState) switch
        {
            (true, null) => "completed",
            (true, _) => "failed",
            (false, null) => "abandoned",
            (false, _) => "refused",
        };
        _sessions.Add(1, targetTag, new KeyValuePair<string, object?>("outcome", outcome), new KeyValuePair<string, object?>("sqlstate", sqlState ?? ""));
    }

    public void StatementDecided(string target, Refusal? refusal)
        => _statements.Add(1, new KeyValuePair<string, object?>("target", target),
            new KeyValuePair<string, object?>("decision", refusal is null ? "allow" : refusal.Review is null ? "deny" : "review"));

    public void RecordingHeld(string target) => _recordingHolds.Add(1, new KeyValuePair<string, object?>("target", target));
}

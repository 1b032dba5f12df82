namespace Appliance.Postgres;

/// <summary>
/// Which client startup parameters reach the upstream. An allow-list: a startup parameter is a setting
/// applied before any statement, so one like <c>role</c> or <c>options=-c …</c> would bypass statement policy.
/// </summary>
internal static class PgStartupParameters
{
    private static readonly HashSet<string> s_forwarded = new(StringComparer.OrdinalIgnoreCase)
    {
        "application_name", "client_encoding", "DateStyle", "TimeZone", "IntervalStyle", "extra_float_digits",
        "search_path", "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout",
        "default_transaction_read_only", "default_transaction_isolation", "geqo", "datestyle",
    };

    /// <summary>Checks one client parameter; returns the reason it is refused, or null.</summary>
    public static string? Refusal(string name) => name switch
    {
        "user" or "database" => null,
        "replication" => "replication connections are not allowed through the gateway",
        "options" => "the startup parameter 'options' (PGOPTIONS) is not allowed through the gateway; use SET statements",
        _ when name.StartsWith("_pq_.", StringComparison.Ordinal) => null,
        _ when s_forwarded.Contains(name) => null,
        _ => $"the startup parameter '{Escape(name)}' is not allowed through the gateway",
    };

    public static bool IsForwarded(string name) => s_forwarded.Contains(name);

    public static string Escape(string value)
    {
        var capped = value.Length > 64 ? value[..64] + "…" : value;
        return string.Concat(capped.Select(c => char.IsControl(c) ? '?' : c));
    }
}

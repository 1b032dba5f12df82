using Appliance.Identity;

namespace Appliance.Policy;

/// <summary>
/// Built-in functions that reach outside the statement's own effect: server files and programs, other
/// connections, server control, settings that change how SQL is read, and SQL run from strings (which the
/// classifier cannot see into). A statement calling one is refused unless the matching allow rule names it.
/// </summary>
internal static class GuardedFunctions
{
    private static readonly GlobPattern[] s_patterns =
    [
        .. new[]
        {
            "lo_import", "lo_export", "lo_from_bytea", "lo_put",
            "pg_read_file", "pg_read_binary_file", "pg_ls_*", "pg_stat_file", "pg_file_*", "pg_logdir_ls",
            "dblink*", "postgres_fdw_*",
            "set_config", "pg_reload_conf", "pg_rotate_logfile", "pg_promote", "pg_switch_wal",
            "pg_terminate_backend", "pg_cancel_backend", "pg_signal_backend",
            "pg_create_*_replication_slot", "pg_drop_replication_slot", "pg_replication_origin_*",
            "query_to_xml*", "cursor_to_xml*", "table_to_xml*", "schema_to_xml*", "database_to_xml*",
            "pg_backup_*", "pg_create_restore_point",
        }.Select(GlobPattern.Compile),
    ];

    /// <summary>True for a guarded name, with or without a <c>pg_catalog.</c> prefix.</summary>
    public static bool IsGuarded(ReadOnlySpan<char> name)
    {
        if (name.StartsWith("pg_catalog."))
        {
            name = name["pg_catalog.".Length..];
        }
        foreach (var pattern in s_patterns)
        {
            if (pattern.IsMatch(name))
            {
                return true;
            }
        }
        return false;
    }
}

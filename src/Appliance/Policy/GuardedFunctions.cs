using Appliance.Identity;

namespace Appliance.Policy;

/// <summary>
/// Functions whose effect is more than a plain read: server files and programs, other connections, server
/// control, settings that change how SQL is read, SQL run from strings (which the classifier cannot see
/// into), sequences and advisory locks. A statement calling one is refused unless the matching allow rule
/// names it in <c>functions</c>.
/// </summary>
public sealed class GuardedFunctions
{
    /// <summary>The built-in list; <c>guarded_functions</c> in the config adds to it.</summary>
    public static readonly IReadOnlyList<string> BuiltIn =
        [
            "lo_*", "lowrite",
            "pg_read_file", "pg_read_binary_file", "pg_ls_*", "pg_stat_file", "pg_file_*", "pg_logdir_ls",
            "dblink*", "postgres_fdw_*",
            "set_config", "pg_reload_conf", "pg_rotate_logfile", "pg_promote", "pg_switch_wal",
            "pg_terminate_backend", "pg_cancel_backend", "pg_signal_backend",
            "pg_create_*_replication_slot", "pg_drop_replication_slot", "pg_replication_origin_*",
            "query_to_xml*", "cursor_to_xml*", "table_to_xml*", "schema_to_xml*", "database_to_xml*", "ts_stat", "ts_rewrite",
            "pg_backup_*", "pg_create_restore_point",
            "nextval", "setval", "pg_advisory_*", "pg_try_advisory_*",
        ];

    private readonly GlobPattern[] _patterns;

    public GuardedFunctions(IEnumerable<string> extra) => _patterns = [.. BuiltIn.Concat(extra).Select(GlobPattern.Compile)];

    public static GuardedFunctions Default { get; } = new([]);

    /// <summary>True for a guarded name, called through any schema (a user function of the same name is guarded too).</summary>
    public bool IsGuarded(ReadOnlySpan<char> name) => CompiledRule.FunctionFits(name, _patterns);
}

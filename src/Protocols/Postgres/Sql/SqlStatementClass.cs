namespace Appliance.Protocols.Postgres.Sql;

/// <summary>
/// What a statement does, for the policy. <see cref="Other"/> (the default) is anything not understood
/// and must be denied unless a rule allows <c>other</c>. Where each statement goes is listed in
/// src/Protocols/Postgres/Sql/README.md.
/// </summary>
public enum SqlStatementClass : byte
{
    /// <summary>Unknown or not understood.</summary>
    Other = 0,

    /// <summary>SELECT, VALUES, TABLE t (read only; no locking clause, no INTO, no writing CTE).</summary>
    Select,

    /// <summary>INSERT (also a SELECT whose WITH holds an INSERT).</summary>
    Insert,

    /// <summary>UPDATE (also through a writing CTE).</summary>
    Update,

    /// <summary>DELETE (also through a writing CTE).</summary>
    Delete,

    /// <summary>MERGE (also through a writing CTE).</summary>
    Merge,

    /// <summary>CREATE/ALTER/DROP of schema objects, TRUNCATE, COMMENT, GRANT/REVOKE of object privileges, SECURITY LABEL, SELECT INTO, IMPORT FOREIGN SCHEMA.</summary>
    Ddl,

    /// <summary>COPY ... TO (a table or a query), to the client, a server file or a program.</summary>
    CopyOut,

    /// <summary>COPY ... FROM, from the client, a server file or a program.</summary>
    CopyIn,

    /// <summary>BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT, SAVEPOINT, RELEASE, PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED, SET TRANSACTION, SET CONSTRAINTS.</summary>
    Transaction,

    /// <summary>SET/RESET/SHOW of ordinary settings, DISCARD PLANS|SEQUENCES|TEMP, DEALLOCATE, LISTEN, UNLISTEN, NOTIFY.</summary>
    Session,

    /// <summary>CALL procedure(...).</summary>
    Call,

    /// <summary>DO anonymous code block.</summary>
    Do,

    /// <summary>LOCK TABLE, and SELECT ... FOR UPDATE / NO KEY UPDATE / SHARE / KEY SHARE.</summary>
    Lock,

    /// <summary>VACUUM, ANALYZE, CLUSTER, REINDEX, CHECKPOINT, REFRESH MATERIALIZED VIEW.</summary>
    Maintenance,

    /// <summary>SET ROLE, SET SESSION AUTHORIZATION (also SET LOCAL/SESSION forms and SET role = ...), RESET ROLE, RESET SESSION AUTHORIZATION, RESET ALL, DISCARD ALL.</summary>
    Privilege,

    /// <summary>Cluster administration: roles and users, GRANT/REVOKE of role membership, ALTER SYSTEM, LOAD, databases, tablespaces, extensions, foreign data wrappers, servers, user mappings, publications, subscriptions, event triggers, languages, access methods, REASSIGN/DROP OWNED.</summary>
    Admin,

    /// <summary>PREPARE name AS statement; the prepared statement's own classification is in the inner fields.</summary>
    Prepare,

    /// <summary>EXECUTE name: decide on what was recorded for the prepared statement.</summary>
    Execute,

    /// <summary>EXPLAIN without ANALYZE (plans, never runs, the inner statement). EXPLAIN ANALYZE gets the inner statement's class.</summary>
    Explain,

    /// <summary>FETCH, MOVE and CLOSE on a cursor (the decision was made at DECLARE).</summary>
    Fetch,

    /// <summary>No statement at all (only whitespace, comments or <c>;</c>): the server answers EmptyQueryResponse.</summary>
    Empty,
}

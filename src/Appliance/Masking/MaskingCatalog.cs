using Appliance.Configuration;
using Npgsql;

namespace Appliance.Masking;

/// <summary>
/// A target's catalog as masking and the policy need it, read with the gateway's own connection: which
/// relations hold masked columns (partitions and children included), which views depend on them, which
/// relations exist, what each view reads, and which functions are built in. Loaded on demand, shared by the target's sessions, and reloaded when
/// invalidated (DDL through the gateway, a policy reload) or when a result names a relation it does not know.
/// </summary>
public sealed class MaskingCatalog : IAsyncDisposable
{
    private readonly NpgsqlDataSource _source;
    private readonly long _maxAge;
    private readonly SemaphoreSlim _loading = new(1, 1);
    private CatalogSnapshot? _snapshot;
    private string[] _columns = [];
    private long _generation;

    public MaskingCatalog(UpstreamConfig upstream, string password)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = upstream.Host,
            Port = upstream.Port,
            Database = upstream.Database,
            Username = upstream.User,
            Password = password,
            Timeout = Math.Max(1, (int)upstream.ConnectTimeout.TotalSeconds),
            SslMode = upstream.Tls switch
            {
                UpstreamTlsMode.Disable => SslMode.Disable,
                UpstreamTlsMode.Require => SslMode.Require,
                UpstreamTlsMode.VerifyFull => SslMode.VerifyFull,
                _ => SslMode.Prefer,
            },
            RootCertificate = upstream.CaFile,
            ApplicationName = "appliance-catalog",
            MaxPoolSize = 2,
        };
        _source = NpgsqlDataSource.Create(builder);
        // A view redefined outside the gateway shows in no statement: only a reload sees it.
        _maxAge = (long)(upstream.CatalogMaxAge.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
    }

    /// <summary>The snapshot in force, if one was loaded, nothing has invalidated it, and it is not older than <c>catalog_max_age</c>.</summary>
    public CatalogSnapshot? Current(IReadOnlyList<string> columns)
    {
        var snapshot = Volatile.Read(ref _snapshot);
        return snapshot is not null && snapshot.Generation == Interlocked.Read(ref _generation) && SameColumns(columns)
            && System.Diagnostics.Stopwatch.GetTimestamp() - snapshot.LoadedAt <= _maxAge ? snapshot : null;
    }

    /// <summary>The newest snapshot loaded, stale or not (null before the first load). Results are planned with it: a relation it does not know makes the session reload.</summary>
    public CatalogSnapshot? Latest => Volatile.Read(ref _snapshot);

    /// <summary>Marks the snapshot stale: the next session or result that needs it reloads it.</summary>
    public void Invalidate() => Interlocked.Increment(ref _generation);

    /// <summary>A snapshot taken after <paramref name="notBefore"/> (a generation), loading one if needed.</summary>
    public async Task<CatalogSnapshot> GetAsync(IReadOnlyList<string> columns, long notBefore, CancellationToken ct)
    {
        if (Current(columns) is { } fresh && fresh.Generation >= notBefore)
        {
            return fresh;
        }
        await _loading.WaitAsync(ct);
        try
        {
            if (Current(columns) is { } loaded && loaded.Generation >= notBefore)
            {
                return loaded;
            }
            // A load reflects the catalog as of its start; a DDL decided meanwhile bumps the generation past it.
            long generation = Interlocked.Increment(ref _generation);
            var snapshot = await LoadAsync(columns, generation, ct);
            _columns = [.. columns];
            Volatile.Write(ref _snapshot, snapshot);
            return snapshot;
        }
        finally
        {
            _loading.Release();
        }
    }

    /// <summary>The generation a reload must reach to reflect the catalog as of now.</summary>
    public long NextGeneration => Interlocked.Read(ref _generation) + 1;

    private bool SameColumns(IReadOnlyList<string> columns)
    {
        var mine = _columns;
        if (mine.Length != columns.Count) return false;
        for (int i = 0; i < mine.Length; i++)
        {
            if (mine[i] != columns[i]) return false;
        }
        return true;
    }

    private const string MaskedRelationsSql = """
        with recursive configured(nsp, rel, col, name) as (
            select split_part(c, '.', 1), split_part(c, '.', 2), split_part(c, '.', 3), c from unnest($1::text[]) as c),
        tree(oid, col, name) as (
            select cl.oid, cfg.col, cfg.name from configured cfg
              join pg_namespace n on n.nspname = cfg.nsp
              join pg_class cl on cl.relnamespace = n.oid and cl.relname = cfg.rel
            union
            select i.inhrelid, t.col, t.name from tree t join pg_inherits i on i.inhparent = t.oid)
        select t.oid, n.nspname || '.' || cl.relname, a.attnum, t.name,
               array(select attname::text from pg_attribute x where x.attrelid = t.oid and x.attnum > 0 order by x.attnum),
               array(select attisdropped from pg_attribute x where x.attrelid = t.oid and x.attnum > 0 order by x.attnum)
        from tree t
          join pg_class cl on cl.oid = t.oid
          join pg_namespace n on n.oid = cl.relnamespace
          join pg_attribute a on a.attrelid = t.oid and a.attname = t.col and not a.attisdropped
        """;

    // A view's rewrite rule depends on each column it reads, or on the whole table for a whole-row reference.
    private const string DependentViewsSql = """
        with recursive masked(oid, attnum, name) as (select * from unnest($1::oid[], $2::int2[], $3::text[])),
        views(oid, name) as (
            select r.ev_class, m.name from masked m
              join pg_depend d on d.refclassid = 'pg_class'::regclass and d.refobjid = m.oid and d.refobjsubid in (m.attnum, 0)
              join pg_rewrite r on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
            where r.ev_class <> m.oid
            union
            select r.ev_class, v.name from views v
              join pg_depend d on d.refclassid = 'pg_class'::regclass and d.refobjid = v.oid
              join pg_rewrite r on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid
            where r.ev_class <> v.oid)
        select v.oid, n.nspname || '.' || cl.relname, array_agg(distinct v.name)
        from views v join pg_class cl on cl.oid = v.oid join pg_namespace n on n.oid = cl.relnamespace
        group by v.oid, n.nspname, cl.relname
        """;

    private static readonly string KnownRelationsSql = $"""
        select cl.oid, case when n.nspname in ('pg_catalog', 'information_schema', 'pg_toast') then null else {Qualified("n.nspname", "cl.relname")} end
        from pg_class cl join pg_namespace n on n.oid = cl.relnamespace
        where cl.relkind in ('r', 'p', 'v', 'm', 'f')
        """;

    // What each view and materialised view reads, through other views too, and what its own definition calls
    // that could read any table: functions not built in, and built-ins that run SQL from a string.
    // A rule naming a table then also covers the views over it. Temporary schemas are left out: another
    // session's temporary views are not this one's.
    // Only user views start a walk (the system schemas hold hundreds of views, read by name never).
    private const string RunsSqlFromString = "'^((query|table|cursor|schema|database)_to_xml|ts_stat$|ts_rewrite$|dblink)'";

    private static readonly string ViewReadsSql = $"""
        with recursive user_rules(oid, view) as (
            select r.oid, r.ev_class from pg_rewrite r join pg_class c on c.oid = r.ev_class join pg_namespace n on n.oid = c.relnamespace
            where n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') and n.nspname not like 'pg\_temp\_%'),
        reads(view, rel) as (
            select r.view, d.refobjid from user_rules r
              join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid and d.refclassid = 'pg_class'::regclass
            where d.refobjid <> r.view
            union
            select reads.view, d.refobjid from reads
              join pg_rewrite r on r.ev_class = reads.rel
              join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid and d.refclassid = 'pg_class'::regclass
            where d.refobjid <> r.ev_class),
        calls(view, fn, guarded) as (
            select r.view, pn.nspname || '.' || p.proname, p.proname ~ {RunsSqlFromString}
            from user_rules r
              join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = r.oid and d.refclassid = 'pg_proc'::regclass
              join pg_proc p on p.oid = d.refobjid join pg_namespace pn on pn.oid = p.pronamespace
            where p.pronamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
               or p.proname ~ {RunsSqlFromString}),
        views(view) as (select view from reads union select view from calls)
        select {Qualified("vn.nspname", "v.relname")},
               coalesce((select array_agg(distinct {Qualified("bn.nspname", "b.relname")}) from reads
                           join pg_class b on b.oid = reads.rel join pg_namespace bn on bn.oid = b.relnamespace
                         where reads.view = views.view and b.relkind in ('r', 'p', 'v', 'm', 'f')), array[]::text[]),
               exists (select from calls where calls.view = views.view and calls.guarded),
               coalesce((select array_agg(distinct calls.fn) from calls where calls.view = views.view and not calls.guarded), array[]::text[])
        from views join pg_class v on v.oid = views.view join pg_namespace vn on vn.oid = v.relnamespace
        where vn.nspname not in ('pg_catalog', 'information_schema') and vn.nspname not like 'pg\_temp\_%'
        """;

    /// <summary>SQL for <c>schema.name</c> as the statement gate writes names: a part with . " * or ? in double quotes.</summary>
    private static string Qualified(string schema, string name) => $"{Quoted(schema)} || '.' || {Quoted(name)}";

    private static string Quoted(string part) => $"(case when {part} ~ '[.\"*?]' then '\"' || replace({part}, '\"', '\"\"') || '\"' else {part}::text end)";

    // Built-in names come without a schema (null): thousands of them, looked up by name only.
    private const string FunctionsSql = """
        select distinct p.proname::text,
               case when p.pronamespace not in ('pg_catalog'::regnamespace, 'information_schema'::regnamespace) then n.nspname::text end
        from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        """;

    private async Task<CatalogSnapshot> LoadAsync(IReadOnlyList<string> columns, long generation, CancellationToken ct)
    {
        long loadedAt = System.Diagnostics.Stopwatch.GetTimestamp();
        await using var connection = await _source.OpenConnectionAsync(ct);
        // One snapshot of the catalog for all the answers.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);

        var relations = new Dictionary<uint, (string Name, string[] Columns, Dictionary<short, string> Masked)>();
        await using (var command = new NpgsqlCommand(MaskedRelationsSql, connection, transaction))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = columns.ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                uint oid = reader.GetFieldValue<uint>(0);
                if (!relations.TryGetValue(oid, out var relation))
                {
                    var names = reader.GetFieldValue<string[]>(4);
                    var dropped = reader.GetFieldValue<bool[]>(5);
                    for (int i = 0; i < names.Length; i++)
                    {
                        if (dropped[i]) names[i] = "";
                    }
                    relation = (reader.GetString(1), names, new Dictionary<short, string>());
                    relations[oid] = relation;
                }
                relation.Masked[reader.GetInt16(2)] = reader.GetString(3);
            }
        }

        var views = new List<DependentView>();
        await using (var command = new NpgsqlCommand(DependentViewsSql, connection, transaction))
        {
            var masked = relations.SelectMany(r => r.Value.Masked.Select(m => (Oid: r.Key, Attnum: m.Key, Name: m.Value))).ToArray();
            command.Parameters.Add(new NpgsqlParameter { Value = masked.Select(m => m.Oid).ToArray(), NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Array | NpgsqlTypes.NpgsqlDbType.Oid });
            command.Parameters.Add(new NpgsqlParameter { Value = masked.Select(m => m.Attnum).ToArray() });
            command.Parameters.Add(new NpgsqlParameter { Value = masked.Select(m => m.Name).ToArray() });
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                views.Add(new DependentView(reader.GetFieldValue<uint>(0), reader.GetString(1), reader.GetFieldValue<string[]>(2)));
            }
        }

        var known = new HashSet<uint>();
        var knownNames = new HashSet<string>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(KnownRelationsSql, connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                known.Add(reader.GetFieldValue<uint>(0));
                // The gate never looks up system relations by name (null here): leaving them out keeps the snapshot small.
                if (!reader.IsDBNull(1))
                {
                    knownNames.Add(reader.GetString(1));
                }
            }
        }

        var viewReads = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var viewCalls = new Dictionary<string, ViewCalls>(StringComparer.Ordinal);
        await using (var command = new NpgsqlCommand(ViewReadsSql, connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                viewReads[reader.GetString(0)] = reader.GetFieldValue<string[]>(1);
                var calls = new ViewCalls(reader.GetBoolean(2), reader.GetFieldValue<string[]>(3));
                if (calls.Guarded || calls.Functions.Length > 0) viewCalls[reader.GetString(0)] = calls;
            }
        }

        var builtin = new HashSet<string>(StringComparer.Ordinal);
        var userSchemas = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        // Thousands of builtin names change only with the server: keep one set while they stay the same.
        await using (var command = new NpgsqlCommand(FunctionsSql, connection, transaction))
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            while (await reader.ReadAsync(ct))
            {
                string name = reader.GetString(0);
                if (reader.IsDBNull(1))
                {
                    builtin.Add(name);
                }
                else if (userSchemas.TryGetValue(name, out var schemas))
                {
                    schemas.Add(reader.GetString(1));
                }
                else
                {
                    userSchemas[name] = [reader.GetString(1)];
                }
            }
        }

        if (_snapshot?.BuiltinFunctions is { } previous && previous.SetEquals(builtin))
        {
            builtin = previous;
        }
        var list = relations.Select(r => new CatalogRelation(r.Key, r.Value.Name, r.Value.Columns, r.Value.Masked)).ToList();
        return new CatalogSnapshot(generation, list, views, known, builtin, userSchemas.Keys.ToHashSet(StringComparer.Ordinal))
        {
            KnownNames = knownNames, ViewReads = viewReads, ViewCalls = viewCalls, LoadedAt = loadedAt,
            UserFunctionSchemas = userSchemas.ToDictionary(p => p.Key, p => p.Value.ToArray(), StringComparer.Ordinal),
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _source.DisposeAsync();
        _loading.Dispose();
    }
}

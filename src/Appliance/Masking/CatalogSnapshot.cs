namespace Appliance.Masking;

/// <summary>A relation holding masked columns (the configured table, or a partition or child of it).</summary>
/// <param name="Name">Its own <c>schema.table</c>.</param>
/// <param name="Columns">Its columns in attribute order (for COPY without a column list).</param>
/// <param name="Masked">Attribute number → the configured column (<c>schema.table.column</c>) it holds.</param>
public sealed record CatalogRelation(uint Oid, string Name, string[] Columns, IReadOnlyDictionary<short, string> Masked)
{
    /// <summary>The configured column for a column name of this relation, or null.</summary>
    public string? MaskedColumn(string column)
    {
        for (int i = 0; i < Columns.Length; i++)
        {
            if (Columns[i] == column && Masked.TryGetValue((short)(i + 1), out var configured)) return configured;
        }
        return null;
    }
}

/// <summary>A view or materialised view that reads masked columns, directly or through other views.</summary>
/// <param name="Masked">The configured columns it depends on.</param>
public sealed record DependentView(uint Oid, string Name, string[] Masked);

/// <summary>What a view's own definition calls that could read any table (see <see cref="CatalogSnapshot.ViewCalls"/>).</summary>
public sealed record ViewCalls(bool Guarded, string[] Functions);

/// <summary>What the gateway knows of a target's catalog at one moment. Immutable (one cache aside).</summary>
public sealed class CatalogSnapshot(
    long generation,
    IReadOnlyList<CatalogRelation> relations,
    IReadOnlyList<DependentView> views,
    IReadOnlySet<uint> known,
    HashSet<string> builtinFunctions,
    HashSet<string> userFunctions)
{
    public long Generation { get; } = generation;

    /// <summary>When the load began (<see cref="System.Diagnostics.Stopwatch"/> ticks): what it says is at least this old.</summary>
    public long LoadedAt { get; init; }

    /// <summary>Names of the functions in pg_catalog and information_schema.</summary>
    public HashSet<string> BuiltinFunctions { get; } = builtinFunctions;

    public IReadOnlyDictionary<uint, CatalogRelation> RelationsByOid { get; } = relations.ToDictionary(r => r.Oid);

    public IReadOnlyDictionary<string, CatalogRelation> RelationsByName { get; } = relations.GroupBy(r => r.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    public IReadOnlyDictionary<uint, DependentView> ViewsByOid { get; } = views.ToDictionary(v => v.Oid);

    public IReadOnlyDictionary<string, DependentView> ViewsByName { get; } = views.GroupBy(v => v.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);

    /// <summary>Bare names of relations holding masked columns, for spotting whole-row references in statement text.</summary>
    public IReadOnlySet<string> RelationBareNames { get; } = relations.Select(r => r.Name[(r.Name.IndexOf('.') + 1)..]).ToHashSet(StringComparer.Ordinal);

    /// <summary>Every table, view, materialised view and foreign table that existed when the snapshot was taken.</summary>
    public bool Knows(uint relation) => known.Contains(relation);

    /// <summary>The same relations by name, <c>schema.relation</c> as the statement gate writes it; system schemas left out.</summary>
    public HashSet<string> KnownNames { get; init; } = new(StringComparer.Ordinal);

    /// <summary>View or materialised view (<c>schema.view</c>) → every relation it reads, directly or through other views.</summary>
    public Dictionary<string, string[]> ViewReads { get; init; } = new(StringComparer.Ordinal);

    /// <summary>
    /// What each view's own definition calls that could read any table: a function not built in
    /// (<c>schema.name</c>), or a built-in that runs SQL from a string (Guarded).
    /// </summary>
    public Dictionary<string, ViewCalls> ViewCalls { get; init; } = new(StringComparer.Ordinal);

    /// <summary>The schemas defining each function name that is not built in.</summary>
    public Dictionary<string, string[]> UserFunctionSchemas { get; init; } = new(StringComparer.Ordinal);

    private sealed record OpaqueViews(Policy.TargetPolicy Policy, HashSet<string> Views);

    private OpaqueViews? _opaqueViews;

    /// <summary>
    /// Views that call, directly or through views they read, a function that could read any table and that
    /// the policy does not trust. Worked out once per snapshot and policy.
    /// </summary>
    public HashSet<string> ViewsCallingOpaqueFunctions(Policy.TargetPolicy policy)
    {
        return Volatile.Read(ref _opaqueViews) is { } cached && ReferenceEquals(cached.Policy, policy) ? cached.Views : FindOpaqueViews(policy);
    }

    // Apart from the lookup above: its closure would be allocated on every call, cached or not.
    private HashSet<string> FindOpaqueViews(Policy.TargetPolicy policy)
    {
        bool Opaque(string view) => ViewCalls.TryGetValue(view, out var calls) && (calls.Guarded || calls.Functions.Any(f => !policy.Trusts(f)));
        var opaque = ViewReads.Keys.Concat(ViewCalls.Keys).Where(v => Opaque(v) || ViewReads.TryGetValue(v, out var reads) && reads.Any(Opaque))
            .ToHashSet(StringComparer.Ordinal);
        // Sessions on other threads may compute it too: the same answer, whichever write lands.
        Volatile.Write(ref _opaqueViews, new OpaqueViews(policy, opaque));
        return opaque;
    }

    /// <summary>
    /// True when a call of <paramref name="name"/> without a schema reaches only trusted functions: every
    /// schema defining the name is trusted (search_path could pick any of them).
    /// </summary>
    public bool TrustedWherever(Policy.TargetPolicy policy, ReadOnlySpan<char> name)
    {
        if (!UserFunctionSchemas.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out var schemas))
        {
            return false;
        }
        foreach (var schema in schemas)
        {
            if (!policy.Trusts(schema, name)) return false;
        }
        return true;
    }

    /// <summary>
    /// True for a function the gateway cannot see into: not in pg_catalog, or a name some other schema also
    /// defines (search_path could pick that one).
    /// </summary>
    public bool DefinedByUser(string name) => userFunctions.Contains(name);

    /// <inheritdoc cref="DefinedByUser(string)"/>
    public bool DefinedByUser(ReadOnlySpan<char> name) => userFunctions.GetAlternateLookup<ReadOnlySpan<char>>().Contains(name);

    public bool IsUserFunction(string? schema, string name) => IsUserFunction(schema is null, schema, name);

    /// <summary><see cref="IsUserFunction(string?, string)"/> without strings; <paramref name="unqualified"/> when the call names no schema.</summary>
    public bool IsUserFunction(bool unqualified, ReadOnlySpan<char> schema, ReadOnlySpan<char> name)
        => !unqualified && !schema.SequenceEqual("pg_catalog") && !schema.SequenceEqual("information_schema") || DefinedByUser(name)
            || !BuiltinFunctions.GetAlternateLookup<ReadOnlySpan<char>>().Contains(name) && !(unqualified && s_syntax.GetAlternateLookup<ReadOnlySpan<char>>().Contains(name));

    // Written like calls but part of SQL's grammar, so not in pg_proc; no user function can take their place.
    private static readonly HashSet<string> s_syntax = new(StringComparer.Ordinal)
    {
        "coalesce", "nullif", "greatest", "least", "grouping", "merge_action",
        "xmlconcat", "xmlelement", "xmlexists", "xmlforest", "xmlparse", "xmlpi", "xmlroot", "xmlserialize",
        "json_array", "json_arrayagg", "json_exists", "json_object", "json_objectagg", "json_query", "json_scalar", "json_serialize", "json_value",
    };
}

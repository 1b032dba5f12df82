namespace Appliance.Masking;

/// <summary>
/// The masks that apply to one principal on one target: configured column (<c>schema.table.column</c>) to
/// strategy. The first masking entry that applies and names a column decides it. Immutable.
/// </summary>
public sealed class SessionMasks
{
    private readonly Dictionary<string, MaskStrategy> _columns;

    private SessionMasks(Dictionary<string, MaskStrategy> columns)
    {
        _columns = columns;
        var derived = default(MaskStrategy?);
        foreach (var s in columns.Values)
        {
            derived = derived is { } d ? d.Strongest(s.ForDerived()) : s.ForDerived();
        }
        Derived = derived!.Value;
        ColumnNames = columns.Keys.Select(c => c[(c.LastIndexOf('.') + 1)..]).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Null when no entry applies to these roles: the session needs no masking at all.</summary>
    public static SessionMasks? For(IReadOnlyList<MaskRule> rules, IReadOnlyList<string> roles)
    {
        Dictionary<string, MaskStrategy>? columns = null;
        foreach (var rule in rules)
        {
            if (!rule.AppliesTo(roles)) continue;
            columns ??= new(StringComparer.Ordinal);
            foreach (var column in rule.Columns) columns.TryAdd(column, rule.Strategy);
        }
        return columns is null ? null : new SessionMasks(columns);
    }

    /// <summary>The strategy for values computed from any masked column of this session (the strongest of them).</summary>
    public MaskStrategy Derived { get; }

    /// <summary>The bare names of the masked columns, for spotting them in statement text.</summary>
    public IReadOnlySet<string> ColumnNames { get; }

    public IEnumerable<string> Columns => _columns.Keys;

    public bool TryGet(string column, out MaskStrategy strategy) => _columns.TryGetValue(column, out strategy);
}

namespace Appliance.Identity;

/// <summary>One configured role: granted when every listed claim has a value matching its pattern.</summary>
internal sealed class RoleRule
{
    private readonly KeyValuePair<string, GlobPattern>[] _conditions;

    public RoleRule(string name, KeyValuePair<string, GlobPattern>[] conditions)
    {
        Name = name;
        _conditions = conditions;
    }

    public string Name { get; }

    public bool Matches(IReadOnlyDictionary<string, IReadOnlyList<string>> claims)
    {
        foreach (var (claim, pattern) in _conditions)
        {
            if (!claims.TryGetValue(claim, out var values) || !AnyMatches(pattern, values))
            {
                return false;
            }
        }
        return true;
    }

    // Array claims were flattened into several values; one matching element is enough.
    private static bool AnyMatches(GlobPattern pattern, IReadOnlyList<string> values)
    {
        for (var i = 0; i < values.Count; i++)
        {
            if (pattern.IsMatch(values[i]))
            {
                return true;
            }
        }
        return false;
    }
}

using Appliance.Configuration;

namespace Appliance.Identity;

/// <summary>
/// Maps verified claims to roles. Compiled once from configuration; a principal gets every role whose claims
/// all match. The same role name may appear several times to give alternative ways of earning it.
/// </summary>
public sealed class RoleMapper
{
    private readonly RoleRule[] _rules;

    /// <summary>Compiles <paramref name="roles"/>; throws <see cref="ArgumentException"/> for a role that could match every token.</summary>
    public RoleMapper(IEnumerable<RoleConfig> roles)
    {
        ArgumentNullException.ThrowIfNull(roles);
        var rules = new List<RoleRule>();
        foreach (var role in roles)
        {
            if (string.IsNullOrWhiteSpace(role.Name))
            {
                throw new ArgumentException("a role has no name", nameof(roles));
            }
            // A role with no conditions would be granted to every valid token from every issuer: fail closed.
            if (role.Claims.Count == 0)
            {
                throw new ArgumentException($"role '{role.Name}' lists no claims, so it would match every token", nameof(roles));
            }
            var conditions = new KeyValuePair<string, GlobPattern>[role.Claims.Count];
            var i = 0;
            foreach (var (claim, pattern) in role.Claims)
            {
                if (string.IsNullOrEmpty(claim))
                {
                    throw new ArgumentException($"role '{role.Name}' has a claim with no name", nameof(roles));
                }
                conditions[i++] = KeyValuePair.Create(claim, GlobPattern.Compile(pattern ?? ""));
            }
            rules.Add(new RoleRule(role.Name, conditions));
        }
        _rules = [.. rules];
    }

    /// <summary>A mapper that grants no roles.</summary>
    public static RoleMapper Empty { get; } = new([]);

    /// <summary>The roles earned by <paramref name="claims"/>, each once, in configuration order.</summary>
    public IReadOnlyList<string> Map(IReadOnlyDictionary<string, IReadOnlyList<string>> claims)
    {
        ArgumentNullException.ThrowIfNull(claims);
        List<string>? granted = null;
        foreach (var rule in _rules)
        {
            if ((granted is null || !granted.Contains(rule.Name)) && rule.Matches(claims))
            {
                (granted ??= []).Add(rule.Name);
            }
        }
        return granted is null ? [] : granted.ToArray();
    }
}

using Appliance.Configuration;

namespace Appliance.Masking;

/// <summary>One masking entry of a target, compiled: which columns, how, and for which roles.</summary>
public sealed class MaskRule
{
    public MaskRule(MaskingConfig config)
    {
        Columns = config.Columns.ToArray();
        bool refuse = config.UnsupportedTypes == "refuse";
        Strategy = config.Strategy switch
        {
            "partial" => new MaskStrategy(MaskKind.Partial, config.Keep, RefuseUnsupported: refuse),
            "hash" => new MaskStrategy(MaskKind.Hash, Scope: config.Scope switch { "global" => HashScope.Global, "session" => HashScope.Session, _ => HashScope.Target }, RefuseUnsupported: refuse),
            _ => new MaskStrategy(MaskKind.Redact, RefuseUnsupported: refuse),
        };
        _anyRole = config.Roles.Count == 0 || config.Roles.Contains(ConfigVocabulary.AnyRole);
        _roles = config.Roles.ToHashSet(StringComparer.Ordinal);
        _exempt = config.ExemptRoles.ToHashSet(StringComparer.Ordinal);
    }

    private readonly bool _anyRole;
    private readonly HashSet<string> _roles;
    private readonly HashSet<string> _exempt;

    /// <summary>Columns as <c>schema.table.column</c>.</summary>
    public string[] Columns { get; }

    public MaskStrategy Strategy { get; }

    /// <summary>True when the rule masks for a principal with these roles: a listed role (or any), and no exempt role.</summary>
    public bool AppliesTo(IReadOnlyList<string> roles)
    {
        bool listed = _anyRole;
        foreach (var role in roles)
        {
            if (_exempt.Contains(role)) return false;
            listed |= _roles.Contains(role);
        }
        return listed;
    }
}

using Appliance.Configuration;

namespace Appliance.Policy;

/// <summary>Every target's compiled policy at one moment; replaced whole on reload.</summary>
public sealed class PolicySet
{
    private readonly Dictionary<string, TargetPolicy> _targets;

    private PolicySet(Dictionary<string, TargetPolicy> targets, long version, string source)
    {
        _targets = targets;
        Version = version;
        Source = source;
    }

    public long Version { get; }
    public string Source { get; }

    public TargetPolicy? For(string target) => _targets.GetValueOrDefault(target);

    /// <summary>Compiles a validated configuration; throws <see cref="ArgumentException"/> on a rule that cannot compile.</summary>
    public static PolicySet Compile(ApplianceConfig config, long version)
    {
        var guarded = new GuardedFunctions(config.GuardedFunctions);
        return new(config.Targets.ToDictionary(t => t.Name, t => new TargetPolicy(t, guarded), StringComparer.Ordinal), version, config.SourcePath);
    }
}

using Appliance.Configuration;

namespace Appliance.Policy;

/// <summary>
/// Holds the current policy. A reload compiles the new policy completely before swapping it in, so a
/// policy that fails keeps the old one; open sessions see the new one at their next statement.
/// </summary>
public sealed class PolicyStore
{
    private PolicySet _current;

    public PolicyStore(ApplianceConfig config) => _current = PolicySet.Compile(config, 1);

    public PolicySet Current => Volatile.Read(ref _current);

    /// <summary>Compiles and swaps in the policy of an already validated configuration.</summary>
    public void Apply(ApplianceConfig config)
    {
        var next = PolicySet.Compile(config, Current.Version + 1);
        Volatile.Write(ref _current, next);
    }
}

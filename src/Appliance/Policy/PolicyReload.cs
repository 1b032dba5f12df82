using Appliance.Configuration;
using Appliance.Hosting;

namespace Appliance.Policy;

/// <summary>Hands a reloaded configuration to the policy store; sessions pick it up at their next statement.</summary>
internal sealed class PolicyReload(PolicyStore store) : IConfigReloadTarget
{
    public Task ApplyAsync(ApplianceConfig config, CancellationToken ct)
    {
        store.Apply(config);
        return Task.CompletedTask;
    }
}

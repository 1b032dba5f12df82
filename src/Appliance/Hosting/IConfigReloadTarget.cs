using Appliance.Configuration;

namespace Appliance.Hosting;

/// <summary>
/// Something that takes a new, already validated configuration on reload (SIGHUP). Register any number in DI;
/// each is called in registration order. Throw to report that this part could not be applied.
/// </summary>
public interface IConfigReloadTarget
{
    /// <summary>Applies what this component can apply from <paramref name="config"/> without a restart.</summary>
    Task ApplyAsync(ApplianceConfig config, CancellationToken ct);
}

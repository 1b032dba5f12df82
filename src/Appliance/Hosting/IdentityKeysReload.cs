using Appliance.Configuration;
using Appliance.Identity;
using Microsoft.Extensions.Logging;

namespace Appliance.Hosting;

/// <summary>On reload, re-reads every issuer's signing keys (JWKS files and URIs) and forgets cached tokens.</summary>
internal sealed class IdentityKeysReload(IIdentityVerifier identity, ApplianceConfig startConfig, ILogger<IdentityKeysReload> logger) : IConfigReloadTarget
{
    public async Task ApplyAsync(ApplianceConfig config, CancellationToken ct)
    {
        if (identity is not JwtVerifier verifier)
        {
            return;
        }
        // The verifier is built once from the start-up configuration; only its keys are reloadable.
        if (!SameIssuers(startConfig.Identity, config.Identity))
        {
            logger.LogWarning("identity.issuers changed: the new issuers take effect after a restart; reloading the keys of the current ones");
        }
        if (!SameRoles(startConfig.Roles, config.Roles))
        {
            logger.LogWarning("roles changed: the new role definitions take effect after a restart");
        }
        var problems = await verifier.ReloadKeysAsync(ct);
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("signing keys not reloaded (the previous keys stay in use): " + string.Join("; ", problems));
        }
        logger.LogInformation("signing keys reloaded for {Count} issuers", config.Identity.Issuers.Count);
    }

    private static bool SameIssuers(IdentityConfig a, IdentityConfig b) =>
        a.Issuers.Count == b.Issuers.Count && a.Issuers.Zip(b.Issuers).All(p =>
            p.First.Name == p.Second.Name && p.First.Issuer == p.Second.Issuer &&
            p.First.JwksFile == p.Second.JwksFile && p.First.JwksUri == p.Second.JwksUri &&
            p.First.Audiences.SequenceEqual(p.Second.Audiences) && p.First.Algorithms.SequenceEqual(p.Second.Algorithms) &&
            p.First.ClockSkew == p.Second.ClockSkew);

    private static bool SameRoles(List<RoleConfig> a, List<RoleConfig> b) =>
        a.Count == b.Count && a.Zip(b).All(p =>
            p.First.Name == p.Second.Name && p.First.Claims.Count == p.Second.Claims.Count &&
            p.First.Claims.All(c => p.Second.Claims.TryGetValue(c.Key, out var v) && v == c.Value));
}

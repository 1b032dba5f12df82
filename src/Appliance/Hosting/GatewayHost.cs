using Appliance.Admin;
using Appliance.Configuration;
using Appliance.Identity;
using Appliance.Policy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Appliance.Hosting;

/// <summary>Builds the service host for a validated configuration.</summary>
internal static class GatewayHost
{
    public static IHost Build(ApplianceConfig config, Action<ILoggingBuilder>? logging = null)
    {
        SecretFiles.EnsurePrivate(config);
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "appliance" });
        SystemdIntegration.AddServices(builder.Services);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        if (logging is not null)
        {
            logging(builder.Logging);
        }
        else
        {
            builder.Logging.SetMinimumLevel(LogLevel.Information);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            SystemdIntegration.AddConsole(builder.Logging);
        }
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = config.Shutdown.DrainTimeout + TimeSpan.FromSeconds(10));
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IIdentityVerifier>(_ => new JwtVerifier(config.Identity, new RoleMapper(config.Roles)));
        builder.Services.AddSingleton(new PolicyStore(config));
        builder.Services.AddSingleton<Recording.RecordingService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Recording.RecordingService>());
        builder.Services.AddSingleton<Approvals.ApprovalService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<Approvals.ApprovalService>());
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddSingleton<GatewayService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<GatewayService>());
        builder.Services.AddSingleton<IConfigReloadTarget, IdentityKeysReload>();
        builder.Services.AddSingleton<IConfigReloadTarget, PolicyReload>();
        builder.Services.AddSingleton<ReloadSignal>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReloadSignal>());
        builder.Services.AddSingleton<AdminService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AdminService>());
        return builder.Build();
    }
}

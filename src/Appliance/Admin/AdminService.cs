using System.Net;
using Appliance.Configuration;
using Appliance.Hosting;
using Appliance.Identity;
using Appliance.Policy;
using Appliance.Tls;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace Appliance.Admin;

/// <summary>
/// The admin HTTP API on <c>admin.listen</c> (Kestrel, minimal APIs). Callers present a JWT as a bearer token
/// and need one of <c>admin.roles</c>. Plain HTTP on loopback; HTTPS with the gateway's certificate elsewhere.
/// </summary>
internal sealed class AdminService(ApplianceConfig config, IIdentityVerifier identity, PolicyStore policies, ReloadSignal reload, Approvals.ApprovalService approvals, ILoggerFactory loggers) : IHostedService
{
    private WebApplication? _app;

    /// <summary>The bound address (a configured port 0 becomes a real one).</summary>
    public Uri? Address { get; private set; }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (config.Admin is not { } admin || !ListenEndpoint.TryParse(admin.Listen, out var endPoint, out _))
        {
            return;
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        bool loopback = IPAddress.IsLoopback(endPoint.Address);
        builder.WebHost.ConfigureKestrel(k => k.Listen(endPoint, listen =>
        {
            if (!loopback)
            {
                listen.UseHttps(TlsMaterial.EnsureSelfSigned(config.StateDir, []).ServerCertificate);
            }
        }));
        if (admin.Metrics)
        {
            builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(GatewayMetrics.MeterName).AddPrometheusExporter());
        }
        var app = builder.Build();
        if (admin.Metrics)
        {
            // Counts only (see GatewayMetrics): no token, as /v1/health, so a scraper needs none.
            app.MapPrometheusScrapingEndpoint("/metrics");
        }
        app.MapGet("/v1/health", () => Results.Ok(new { status = "ok", policy_version = policies.Current.Version }));
        app.MapPost("/v1/policy/reload", async (HttpContext http) =>
        {
            if (await AuthorizeAsync(http) is { } denied)
            {
                return denied;
            }
            var problems = await reload.ReloadWithProblemsAsync(http.RequestAborted);
            return problems.Count == 0
                ? Results.Ok(new { status = "reloaded", policy_version = policies.Current.Version })
                : Results.UnprocessableEntity(new { status = "rejected", policy_version = policies.Current.Version, problems });
        });
        AdminApprovals.Map(app, config, approvals.Queue, policies, AuthenticateAsync);
        await app.StartAsync(cancellationToken);
        _app = app;
        Address = new Uri(app.Urls.First());
        loggers.CreateLogger("Appliance.Admin").LogInformation("admin API on {Address}", Address);
    }

    /// <summary>The verified principal of the bearer token, or the 401 to answer.</summary>
    private async Task<(Principal?, IResult?)> AuthenticateAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return (null, Results.Json(new { error = "a bearer token is required" }, statusCode: StatusCodes.Status401Unauthorized));
        }
        var result = await identity.VerifyAsync(header["Bearer ".Length..].Trim(), http.RequestAborted);
        if (result.Principal is not { } principal)
        {
            return (null, Results.Json(new { error = $"token rejected: {result.Reason}" }, statusCode: StatusCodes.Status401Unauthorized));
        }
        return (principal, null);
    }

    /// <summary>Null when the bearer token verifies and carries an admin role; otherwise the refusal.</summary>
    private async Task<IResult?> AuthorizeAsync(HttpContext http)
    {
        var (principal, failure) = await AuthenticateAsync(http);
        if (principal is null)
        {
            return failure;
        }
        if (!principal.Roles.Any(config.Admin!.Roles.Contains))
        {
            return Results.Json(new { error = $"principal \"{principal.Subject}\" has no admin role (admin.roles)" }, statusCode: StatusCodes.Status403Forbidden);
        }
        return null;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
            await _app.DisposeAsync();
        }
    }
}

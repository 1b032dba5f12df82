using System.Net;
using System.Net.Security;
using Appliance.Configuration;
using Appliance.Identity;
using Appliance.Policy;
using Appliance.Postgres;
using Appliance.Tls;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Appliance.Hosting;

/// <summary>Binds every listener at start; on stop, stops accepting and drains sessions up to the deadline.</summary>
internal sealed class GatewayService(ApplianceConfig config, IIdentityVerifier identity, PolicyStore policies, Recording.RecordingService recording, Approvals.ApprovalService approvals, GatewayMetrics metrics, ILoggerFactory loggers) : IHostedService
{
    private readonly ILogger _logger = loggers.CreateLogger("Appliance.Gateway");
    private readonly List<PgListener> _listeners = [];
    private readonly SessionTracker _sessions = new(config.Limits.MaxSessions);
    private readonly PgCancelRegistry _cancels = new();

    /// <summary>The addresses actually bound (port 0 in config becomes a real port).</summary>
    public IReadOnlyList<IPEndPoint> BoundEndPoints => _listeners.Select(l => l.BoundEndPoint!).ToList();

    public int ActiveSessions => _sessions.Count;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var sessionLogger = loggers.CreateLogger("Appliance.Postgres.Session");
        var maskingKeys = new Lazy<Masking.MaskingKeys>(() => Masking.MaskingKeys.LoadOrCreate(config.StateDir));
        foreach (var group in config.Targets.Where(t => t.Kind == "postgres").GroupBy(t => t.Listen))
        {
            if (!ListenEndpoint.TryParse(group.Key, out var endPoint, out var error))
            {
                throw new InvalidOperationException($"listen address '{group.Key}': {error}");
            }
            var targets = group.ToDictionary(t => t.Name, PgTarget.Load, StringComparer.Ordinal);
            var context = new PgListenerContext(endPoint, targets, ServerCertificateFor(group.ToList()), identity, _cancels, policies, recording, approvals.Queue, config.Limits, sessionLogger, maskingKeys, metrics);
            var listener = new PgListener(context, _sessions);
            listener.Start();
            _listeners.Add(listener);
        }
        return Task.CompletedTask;
    }

    private SslStreamCertificateContext ServerCertificateFor(List<TargetConfig> targets)
    {
        var configured = targets.Where(t => t.Tls?.CertFile is not null).Select(t => (t.Tls!.CertFile!, t.Tls.KeyFile!)).Distinct().ToList();
        if (configured.Count > 1 || (configured.Count == 1 && targets.Any(t => t.Tls?.CertFile is null)))
        {
            throw new InvalidOperationException($"targets sharing listener {targets[0].Listen} must use the same tls settings");
        }
        if (configured.Count == 1)
        {
            return TlsMaterial.LoadServerCertificateContext(configured[0].Item1, configured[0].Item2);
        }
        var generated = TlsMaterial.EnsureSelfSigned(config.StateDir, []);
        _logger.LogInformation("no TLS certificate configured for {Listen}: using the gateway's own CA; clients verify with sslrootcert={CaPath}", targets[0].Listen, generated.CaCertificatePath);
        return SslStreamCertificateContext.Create(generated.ServerCertificate, additionalCertificates: null);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(_listeners.Select(l => l.StopAsync()));
        _logger.LogInformation("stopped accepting; draining {Count} sessions for up to {Deadline}", _sessions.Count, config.Shutdown.DrainTimeout);
        await _sessions.DrainAsync(config.Shutdown.DrainTimeout);
    }
}

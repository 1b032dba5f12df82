using Appliance.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Appliance.Approvals;

/// <summary>Owns the approval queue (loaded from the state directory at construction) and its webhook.</summary>
internal sealed class ApprovalService : IHostedService, IAsyncDisposable
{
    private readonly ApprovalWebhook? _webhook;

    public ApprovalService(ApplianceConfig config, TimeProvider time, ILoggerFactory loggers, IHostApplicationLifetime? lifetime = null)
    {
        var log = loggers.CreateLogger("Appliance.Approvals");
        Queue = new ApprovalQueue(config.Approvals, config.StateDir, time, log);
        if (config.Approvals.Webhook is { } webhook)
        {
            _webhook = new ApprovalWebhook(webhook, Queue, time, log);
            Queue.Announce = _webhook.Enqueue;
        }
        // Stopping ends the waits at once (the sessions are told and can drain) rather than at the drain deadline.
        lifetime?.ApplicationStopping.Register(() => Queue.AbandonAll("the gateway stopped while the request waited; its session is gone"));
    }

    public ApprovalQueue Queue { get; }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken) => await DisposeAsync();

    private int _disposed;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }
        Queue.Announce = null;
        if (_webhook is not null)
        {
            await _webhook.DisposeAsync();
        }
        Queue.Dispose();
    }
}

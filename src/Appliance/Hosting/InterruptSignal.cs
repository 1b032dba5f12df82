using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;

namespace Appliance.Hosting;

/// <summary>
/// SIGINT stops the host gracefully (drain) under the systemd lifetime too, which itself handles only SIGTERM;
/// without this, SIGINT would end the process at once. The console lifetime already handles SIGINT.
/// </summary>
internal sealed class InterruptSignal(IHostLifetime lifetime, IHostApplicationLifetime application) : IHostedService, IDisposable
{
    private PosixSignalRegistration? _registration;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (lifetime is SystemdLifetime)
        {
            _registration = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
            {
                context.Cancel = true;
                application.StopApplication();
            });
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _registration?.Dispose();
}

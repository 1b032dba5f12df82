using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace Appliance.Hosting;

/// <summary>
/// What the service manager tells the process through its environment. <c>AddSystemd()</c> alone looks only at
/// whether the parent process is called <c>systemd</c>; this also honours <c>NOTIFY_SOCKET</c> (readiness, as
/// <c>sd_notify</c> does) and <c>JOURNAL_STREAM</c> (log lines with <c>&lt;N&gt;</c> priority prefixes).
/// </summary>
internal static class SystemdIntegration
{
    /// <summary>True when a service manager asked for readiness notifications.</summary>
    public static bool NotifySocketSet => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET"));

    /// <summary>True when standard output is connected to the journal (systemd sets <c>JOURNAL_STREAM</c> then).</summary>
    public static bool LogsToJournal => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM"));

    /// <summary>
    /// <c>AddSystemd()</c>, plus the notifier and the systemd lifetime (READY=1 once every hosted service has
    /// started, STOPPING=1, SIGTERM stops the host) whenever <c>NOTIFY_SOCKET</c> is set, and SIGINT stopping
    /// the host under that lifetime as it does under the console one.
    /// </summary>
    public static void AddServices(IServiceCollection services)
    {
        services.AddSystemd();
        if (NotifySocketSet && !SystemdHelpers.IsSystemdService())
        {
            services.TryAddSingleton<ISystemdNotifier, SystemdNotifier>();
            services.AddSingleton<IHostLifetime, SystemdLifetime>();
        }
        services.AddHostedService<InterruptSignal>();
    }

    /// <summary>Console logging: systemd's format with priorities for the journal, a readable single line otherwise.</summary>
    public static void AddConsole(ILoggingBuilder logging)
    {
        if (LogsToJournal)
        {
            var socket = Environment.GetEnvironmentVariable("APPLIANCE_JOURNAL_SOCKET") ?? JournalLoggerProvider.DefaultSocket;
            if (File.Exists(socket))
            {
                // Native protocol: structured values become journal fields (PRINCIPAL=, TARGET=, SESSIONID= …).
                logging.AddProvider(new JournalLoggerProvider(socket));
                return;
            }
            // journald adds the time; the <N> prefix becomes the entry's PRIORITY.
            logging.AddSystemdConsole(o => o.IncludeScopes = true);
            return;
        }
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.IncludeScopes = true;
        });
    }
}

using System.Net;

namespace Appliance.Configuration;

internal sealed partial class ConfigBinder
{
    /// <summary>
    /// Targets may share a listener (PostgreSQL routes by database name), but then they share its TLS
    /// certificate too: the TLS handshake happens before the client names its database. Listeners on
    /// one port must not overlap (a wildcard and a specific address of the same family), and the admin
    /// API needs a port of its own.
    /// </summary>
    private void CheckListeners(List<BoundListener> listeners, IPEndPoint? admin)
    {
        for (var j = 0; j < listeners.Count; j++)
        {
            var later = listeners[j];
            for (var i = 0; i < j; i++)
            {
                var earlier = listeners[i];
                if (earlier.Endpoint.Equals(later.Endpoint))
                {
                    if (!SameTls(earlier.Target.Tls, later.Target.Tls))
                    {
                        Error(later.Target.Tls is null ? later.ListenPath : later.TlsPath,
                            $"targets sharing listener {later.Endpoint} must have the same tls settings; "
                            + $"target '{earlier.Target.Name}' (line {earlier.Target.Line}) has different ones");
                    }

                    break;
                }

                if (Overlaps(earlier.Endpoint, later.Endpoint))
                {
                    Error(later.ListenPath, $"listener {later.Endpoint} overlaps {earlier.Endpoint} of target "
                        + $"'{earlier.Target.Name}' (line {earlier.Target.Line}); targets on one port must use the same address");
                    break;
                }
            }
        }

        if (admin is null)
        {
            return;
        }

        foreach (var listener in listeners)
        {
            if (admin.Equals(listener.Endpoint) || Overlaps(admin, listener.Endpoint))
            {
                Error("admin.listen", $"admin listener {admin} conflicts with {listener.Endpoint} of target "
                    + $"'{listener.Target.Name}' (line {listener.Target.Line})");
                return;
            }
        }
    }

    private static bool SameTls(TlsConfig? a, TlsConfig? b) =>
        a is null ? b is null : b is not null && a.CertFile == b.CertFile && a.KeyFile == b.KeyFile;

    private static bool Overlaps(IPEndPoint a, IPEndPoint b) =>
        a.Port == b.Port
        && a.AddressFamily == b.AddressFamily
        && !a.Address.Equals(b.Address)
        && (IsWildcard(a.Address) || IsWildcard(b.Address));

    private static bool IsWildcard(IPAddress address) =>
        address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
}

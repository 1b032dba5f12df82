using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Appliance.Cli;

/// <summary>Where the CLI reaches a gateway's admin API, from its config's <c>admin.listen</c>.</summary>
internal static class AdminAddress
{
    /// <summary>
    /// The admin API's base address: plain HTTP on loopback, else HTTPS with <paramref name="handler"/> trusting
    /// the gateway's own CA (<c>state_dir/tls/ca.pem</c>) when there is one.
    /// </summary>
    public static Uri Resolve(IPEndPoint endPoint, string stateDir, HttpClientHandler handler)
    {
        bool loopback = IPAddress.IsLoopback(endPoint.Address);
        var caPath = Path.Combine(stateDir, "tls", "ca.pem");
        if (!loopback && File.Exists(caPath))
        {
            var trust = new X509Certificate2Collection();
            trust.ImportFromPemFile(caPath);
            handler.ServerCertificateCustomValidationCallback = (_, cert, chain, _) =>
            {
                chain!.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.AddRange(trust);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(cert!);
            };
        }
        var host = endPoint.Address.Equals(IPAddress.Any) ? "127.0.0.1" : endPoint.Address.ToString();
        return new UriBuilder(loopback ? "http" : "https", host.Contains(':') ? $"[{host}]" : host, endPoint.Port).Uri;
    }
}

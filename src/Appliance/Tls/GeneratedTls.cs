using System.Security.Cryptography.X509Certificates;

namespace Appliance.Tls;

/// <summary>The gateway's self-signed TLS material: the server certificate (with its key, ready for SslStream) and where the files are.</summary>
/// <param name="ServerCertificate">Server certificate with private key; the caller owns and disposes it.</param>
/// <param name="CaCertificatePath">The CA certificate clients must trust (psql: sslrootcert=...).</param>
/// <param name="ServerCertificatePath">PEM of the server certificate.</param>
/// <param name="ServerKeyPath">PEM of the server key (mode 0600).</param>
public sealed record GeneratedTls(
    X509Certificate2 ServerCertificate,
    string CaCertificatePath,
    string ServerCertificatePath,
    string ServerKeyPath);

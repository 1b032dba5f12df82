using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Appliance.Tls;

/// <summary>
/// Server TLS material for the listeners: configured PEM files, or a self-signed CA and server
/// certificate generated once under <c>state_dir/tls</c> and reused.
/// </summary>
public static class TlsMaterial
{
    /// <summary>Directory under state_dir holding the generated material.</summary>
    public const string DirectoryName = "tls";

    /// <summary>The CA certificate clients trust (inside <see cref="DirectoryName"/>, as the other files).</summary>
    public const string CaCertificateFileName = "ca.pem";

    /// <summary>The CA's private key (mode 0600).</summary>
    public const string CaKeyFileName = "ca.key";

    /// <summary>The server certificate (leaf only).</summary>
    public const string ServerCertificateFileName = "server.pem";

    /// <summary>The server's private key (mode 0600).</summary>
    public const string ServerKeyFileName = "server.key";

    private const UnixFileMode PrivateDirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode PublicFileMode = PrivateFileMode | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    private static readonly TimeSpan s_caLifetime = TimeSpan.FromDays(3650);
    private static readonly TimeSpan s_serverLifetime = TimeSpan.FromDays(365);

    // Renew a little before expiry, so a gateway started shortly before cannot serve an expired certificate for long.
    private static readonly TimeSpan s_renewBefore = TimeSpan.FromDays(7);

    // Backdate notBefore a little: clients with a clock slightly behind still accept a fresh certificate.
    private static readonly TimeSpan s_backdate = TimeSpan.FromHours(1);

    /// <summary>
    /// Loads a server certificate from a PEM file (leaf first; further certificates are the chain) and a PEM private key
    /// (RSA or ECDSA; PKCS#8 or PKCS#1/SEC1; not encrypted). The result carries its key and works with SslStream server-side.
    /// </summary>
    /// <exception cref="TlsMaterialException">A file is missing or unreadable, the key does not match, or the certificate has expired.</exception>
    public static X509Certificate2 LoadServerCertificate(string certFile, string keyFile) =>
        LoadServerCertificate(certFile, keyFile, TimeProvider.System);

    /// <summary>
    /// As <see cref="LoadServerCertificate(string, string)"/>, and keeps the intermediates of the certificate file so
    /// SslStream sends the whole chain (<see cref="SslServerAuthenticationOptions.ServerCertificateContext"/>).
    /// </summary>
    /// <exception cref="TlsMaterialException">See <see cref="LoadServerCertificate(string, string)"/>.</exception>
    public static SslStreamCertificateContext LoadServerCertificateContext(string certFile, string keyFile)
    {
        X509Certificate2 leaf = LoadServerCertificate(certFile, keyFile);
        var chain = new X509Certificate2Collection();
        try
        {
            chain.ImportFromPemFile(certFile);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            leaf.Dispose();
            throw new TlsMaterialException($"cannot read the certificate chain in '{certFile}': {e.Message}", e);
        }

        var intermediates = new X509Certificate2Collection();
        foreach (X509Certificate2 certificate in chain)
        {
            if (certificate.RawDataMemory.Span.SequenceEqual(leaf.RawDataMemory.Span))
            {
                certificate.Dispose();
            }
            else
            {
                intermediates.Add(certificate);
            }
        }

        // offline: never fetch anything (AIA, OCSP) on the listener's behalf.
        return SslStreamCertificateContext.Create(leaf, intermediates, offline: true);
    }

    /// <summary>
    /// Returns the self-signed server material under <paramref name="stateDir"/>/tls, creating it on first use: an ECDSA P-256
    /// CA (10 years) and a server certificate it signs (1 year, serverAuth; SANs localhost, 127.0.0.1, ::1, the machine name
    /// and <paramref name="extraHostNames"/>). Later calls reuse the files; the server certificate is issued again only when
    /// it expires within 7 days, lacks a requested name, or no longer chains to the CA.
    /// </summary>
    /// <exception cref="ArgumentException">An extra host name is neither an IP address nor a valid DNS name.</exception>
    /// <exception cref="TlsMaterialException">The CA files exist but cannot be used (the CA is never replaced silently unless expired).</exception>
    public static GeneratedTls EnsureSelfSigned(string stateDir, IEnumerable<string> extraHostNames) =>
        EnsureSelfSigned(stateDir, extraHostNames, TimeProvider.System);

    /// <summary>As <see cref="EnsureSelfSigned(string, IEnumerable{string})"/>, with the clock given.</summary>
    public static GeneratedTls EnsureSelfSigned(string stateDir, IEnumerable<string> extraHostNames, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(stateDir);
        ArgumentNullException.ThrowIfNull(extraHostNames);
        CertificateHostNames names = CertificateHostNames.Create(extraHostNames);
        DateTimeOffset now = time.GetUtcNow();

        string directory = Path.Combine(stateDir, DirectoryName);
        CreatePrivateDirectory(directory);
        string caPath = Path.Combine(directory, CaCertificateFileName);
        string caKeyPath = Path.Combine(directory, CaKeyFileName);
        string serverPath = Path.Combine(directory, ServerCertificateFileName);
        string serverKeyPath = Path.Combine(directory, ServerKeyFileName);

        using X509Certificate2 ca = LoadOrCreateCa(caPath, caKeyPath, now);
        X509Certificate2? server = TryLoadReusableServer(serverPath, serverKeyPath, ca, names, now);
        if (server is null)
        {
            X509Certificate2 issued = IssueServer(ca, names, now);
            try
            {
                // Key first, certificate last: a crash in between leaves a pair that does not match, which the next call replaces.
                using (ECDsa key = issued.GetECDsaPrivateKey()!)
                {
                    WriteFileAtomically(serverKeyPath, key.ExportPkcs8PrivateKeyPem(), PrivateFileMode);
                }

                WriteFileAtomically(serverPath, issued.ExportCertificatePem(), PublicFileMode);
            }
            catch
            {
                issued.Dispose();
                throw;
            }

            server = UsableBySslStream(issued);
        }

        return new GeneratedTls(server, caPath, serverPath, serverKeyPath);
    }

    private static X509Certificate2 LoadServerCertificate(string certFile, string keyFile, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(certFile);
        ArgumentException.ThrowIfNullOrEmpty(keyFile);
        X509Certificate2 certificate;
        try
        {
            if (File.ReadAllText(keyFile).Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal))
            {
                throw new TlsMaterialException($"the private key '{keyFile}' is encrypted; give an unencrypted key (readable by the service only)");
            }

            certificate = X509Certificate2.CreateFromPemFile(certFile, keyFile);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new TlsMaterialException($"cannot load TLS certificate '{certFile}' with key '{keyFile}': {e.Message}", e);
        }

        if (certificate.NotAfter.ToUniversalTime() <= time.GetUtcNow().UtcDateTime)
        {
            DateTime notAfter = certificate.NotAfter.ToUniversalTime();
            certificate.Dispose();
            throw new TlsMaterialException($"the TLS certificate '{certFile}' expired on {notAfter:yyyy-MM-dd HH:mm:ss} UTC");
        }

        return UsableBySslStream(certificate);
    }

    private static X509Certificate2 LoadOrCreateCa(string caPath, string caKeyPath, DateTimeOffset now)
    {
        // ca.pem is written last and is the commit point: without it, a stray ca.key is leftover from an interrupted run.
        if (File.Exists(caPath))
        {
            if (!File.Exists(caKeyPath))
            {
                throw new TlsMaterialException($"'{caPath}' exists but its key '{caKeyPath}' is missing; restore it, or remove both to generate a new CA");
            }

            X509Certificate2 existing;
            try
            {
                existing = X509Certificate2.CreateFromPemFile(caPath, caKeyPath);
            }
            catch (Exception e) when (e is CryptographicException or ArgumentException)
            {
                throw new TlsMaterialException($"cannot load the generated CA '{caPath}' with key '{caKeyPath}': {e.Message}; remove both to generate a new CA", e);
            }

            if (existing.NotAfter.ToUniversalTime() - s_renewBefore > now.UtcDateTime)
            {
                EnsureMode(caKeyPath, PrivateFileMode);
                return existing;
            }

            existing.Dispose(); // expired (or about to): clients cannot trust it any more anyway
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(Truncate($"Appliance CA {Environment.MachineName} {now:yyyy-MM-dd}", 64));
        subject.AddOrganizationName("Appliance");
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: true, hasPathLengthConstraint: true, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        X509Certificate2 ca = request.CreateSelfSigned(now - s_backdate, now + s_caLifetime);

        WriteFileAtomically(caKeyPath, key.ExportPkcs8PrivateKeyPem(), PrivateFileMode);
        WriteFileAtomically(caPath, ca.ExportCertificatePem(), PublicFileMode);
        return ca;
    }

    private static X509Certificate2? TryLoadReusableServer(string serverPath, string serverKeyPath, X509Certificate2 ca, CertificateHostNames names, DateTimeOffset now)
    {
        if (!File.Exists(serverPath) || !File.Exists(serverKeyPath))
        {
            return null;
        }

        X509Certificate2 server;
        try
        {
            server = X509Certificate2.CreateFromPemFile(serverPath, serverKeyPath);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return null; // derived material: a torn or mismatched pair is simply issued again
        }

        bool reusable = server.NotAfter.ToUniversalTime() - s_renewBefore > now.UtcDateTime
            && names.AreCoveredBy(server)
            && ChainsTo(server, ca, now);
        if (!reusable)
        {
            server.Dispose();
            return null;
        }

        EnsureMode(serverKeyPath, PrivateFileMode);
        return UsableBySslStream(server);
    }

    private static X509Certificate2 IssueServer(X509Certificate2 ca, CertificateHostNames names, DateTimeOffset now)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(names.CommonName);
        subject.AddOrganizationName("Appliance");
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(certificateAuthority: false, hasPathLengthConstraint: false, pathLengthConstraint: 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ServerAuthOid)], critical: false));
        request.CertificateExtensions.Add(names.ToExtension());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        DateTimeOffset notAfter = now + s_serverLifetime;
        if (notAfter > ca.NotAfter)
        {
            notAfter = ca.NotAfter; // a certificate may not outlive its issuer
        }

        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01); // positive, and no leading zero byte to strip
        using X509Certificate2 issued = request.Create(ca, now - s_backdate, notAfter, serial);
        return issued.CopyWithPrivateKey(key);
    }

    private static bool ChainsTo(X509Certificate2 server, X509Certificate2 ca, DateTimeOffset now)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.VerificationTime = now.UtcDateTime;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(ServerAuthOid));
        try
        {
            return chain.Build(server);
        }
        finally
        {
            foreach (X509ChainElement element in chain.ChainElements)
            {
                element.Certificate.Dispose();
            }
        }
    }

    // On Windows, SChannel cannot use the ephemeral keys of PEM-loaded certificates; a PKCS#12 round trip gives it a
    // stored key. OpenSSL (Linux) uses the key as it is.
    private static X509Certificate2 UsableBySslStream(X509Certificate2 certificate)
    {
        if (!OperatingSystem.IsWindows())
        {
            return certificate;
        }

        using (certificate)
        {
            return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), password: null);
        }
    }

    private static void CreatePrivateDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        Directory.CreateDirectory(directory, PrivateDirectoryMode);
        EnsureMode(directory, PrivateDirectoryMode);
    }

    private static void EnsureMode(string path, UnixFileMode mode)
    {
        if (!OperatingSystem.IsWindows() && File.GetUnixFileMode(path) != mode)
        {
            File.SetUnixFileMode(path, mode);
        }
    }

    // Write to a temporary file created with the final mode, flush to disk, then rename over the target: readers see the
    // old file or the new one, never a torn or briefly world-readable one.
    private static void WriteFileAtomically(string path, string content, UnixFileMode mode)
    {
        string temporary = path + ".tmp-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6));
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        try
        {
            using (var stream = new FileStream(temporary, options))
            using (var writer = new StreamWriter(stream))
            {
                writer.Write(content);
                writer.Flush();
                stream.Flush(flushToDisk: true);
            }

            EnsureMode(temporary, mode); // the umask may have removed bits: make the mode exact
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            File.Delete(temporary);
            throw;
        }
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}

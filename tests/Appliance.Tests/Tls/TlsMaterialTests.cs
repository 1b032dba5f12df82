using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using System.Runtime.Versioning;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Appliance.Tls;

namespace Appliance.Tests.Tls;

public sealed class TlsMaterialTests : IDisposable
{
    private static readonly TimeSpan s_handshakeTimeout = TimeSpan.FromSeconds(20);
    private readonly string _stateDir = Path.Combine(Path.GetTempPath(), "appliance-tls-tests-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_stateDir))
        {
            Directory.Delete(_stateDir, recursive: true);
        }
    }

    private string TlsDir => Path.Combine(_stateDir, TlsMaterial.DirectoryName);

    private string CaPath => Path.Combine(TlsDir, TlsMaterial.CaCertificateFileName);

    private string CaKeyPath => Path.Combine(TlsDir, TlsMaterial.CaKeyFileName);

    private string ServerPath => Path.Combine(TlsDir, TlsMaterial.ServerCertificateFileName);

    private string ServerKeyPath => Path.Combine(TlsDir, TlsMaterial.ServerKeyFileName);

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public void EnsureSelfSigned_FirstCall_CreatesFilesWithPrivateModes()
    {
        GeneratedTls tls = TlsMaterial.EnsureSelfSigned(_stateDir, []);
        using X509Certificate2 server = tls.ServerCertificate;

        Assert.Equal(CaPath, tls.CaCertificatePath);
        Assert.Equal(ServerPath, tls.ServerCertificatePath);
        Assert.Equal(ServerKeyPath, tls.ServerKeyPath);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(TlsDir));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(CaKeyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(ServerKeyPath));
        Assert.True(File.Exists(CaPath));
        Assert.True(File.Exists(ServerPath));
        Assert.Empty(Directory.GetFiles(TlsDir, "*.tmp-*"));
        Assert.True(server.HasPrivateKey);
    }

    [Fact]
    public void EnsureSelfSigned_FirstCall_CaIsEcdsaP256AuthorityForTenYears()
    {
        using X509Certificate2 server = TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate;
        using X509Certificate2 ca = X509CertificateLoader.LoadCertificateFromFile(CaPath);

        var constraints = ca.Extensions.OfType<X509BasicConstraintsExtension>().Single();
        Assert.True(constraints.CertificateAuthority);
        Assert.True(constraints.Critical);
        Assert.Equal(ca.SubjectName.RawData, ca.IssuerName.RawData);
        using ECDsa caKey = ca.GetECDsaPublicKey()!;
        Assert.Equal(256, caKey.KeySize);
        Assert.InRange((ca.NotAfter - ca.NotBefore).TotalDays, 3649, 3651);
        Assert.InRange((server.NotAfter - server.NotBefore).TotalDays, 364, 366);
        Assert.False(server.Extensions.OfType<X509BasicConstraintsExtension>().Single().CertificateAuthority);
    }

    [Fact]
    public void EnsureSelfSigned_SecondCall_ReusesCertificates()
    {
        using X509Certificate2 first = TlsMaterial.EnsureSelfSigned(_stateDir, ["db.example.com"]).ServerCertificate;
        byte[] caBytes = File.ReadAllBytes(CaPath);
        byte[] caKeyBytes = File.ReadAllBytes(CaKeyPath);

        using X509Certificate2 second = TlsMaterial.EnsureSelfSigned(_stateDir, ["db.example.com"]).ServerCertificate;

        Assert.Equal(first.Thumbprint, second.Thumbprint);
        Assert.Equal(caBytes, File.ReadAllBytes(CaPath));
        Assert.Equal(caKeyBytes, File.ReadAllBytes(CaKeyPath));
        Assert.True(second.HasPrivateKey);
    }

    [Fact]
    public void EnsureSelfSigned_SubsetOfNames_Reuses()
    {
        using X509Certificate2 first = TlsMaterial.EnsureSelfSigned(_stateDir, ["db.example.com", "10.0.0.5"]).ServerCertificate;

        using X509Certificate2 second = TlsMaterial.EnsureSelfSigned(_stateDir, ["DB.example.com."]).ServerCertificate;

        Assert.Equal(first.Thumbprint, second.Thumbprint);
    }

    [Fact]
    public void EnsureSelfSigned_NewHostName_IssuesNewServerCertificateWithSameCa()
    {
        using X509Certificate2 first = TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate;
        byte[] caBytes = File.ReadAllBytes(CaPath);

        using X509Certificate2 second = TlsMaterial.EnsureSelfSigned(_stateDir, ["gateway.internal"]).ServerCertificate;

        Assert.NotEqual(first.Thumbprint, second.Thumbprint);
        Assert.Equal(caBytes, File.ReadAllBytes(CaPath));
        Assert.Contains("gateway.internal", DnsNames(second));
        Assert.True(ChainsToCa(second));
    }

    [Fact]
    public void EnsureSelfSigned_ServerCertificateExpired_IssuesNewOneWithSameCa()
    {
        using X509Certificate2 first = TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate;
        byte[] caBytes = File.ReadAllBytes(CaPath);
        var later = new FixedTimeProvider(DateTimeOffset.UtcNow.AddDays(366));

        using X509Certificate2 second = TlsMaterial.EnsureSelfSigned(_stateDir, [], later).ServerCertificate;

        Assert.NotEqual(first.Thumbprint, second.Thumbprint);
        Assert.True(second.NotAfter.ToUniversalTime() > later.GetUtcNow().UtcDateTime);
        Assert.Equal(caBytes, File.ReadAllBytes(CaPath));
    }

    [Fact]
    public void EnsureSelfSigned_ServerPairMismatched_IssuesNewOne()
    {
        using X509Certificate2 first = TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate;
        using (var otherKey = ECDsa.Create(ECCurve.NamedCurves.nistP256))
        {
            File.WriteAllText(ServerKeyPath, otherKey.ExportPkcs8PrivateKeyPem());
        }

        using X509Certificate2 second = TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate;

        Assert.NotEqual(first.Thumbprint, second.Thumbprint);
        Assert.True(ChainsToCa(second));
    }

    [Fact]
    public void EnsureSelfSigned_CaKeyMissing_RefusesToReplaceCa()
    {
        TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate.Dispose();
        File.Delete(CaKeyPath);

        var e = Assert.Throws<TlsMaterialException>(() => TlsMaterial.EnsureSelfSigned(_stateDir, []));
        Assert.Contains(CaKeyPath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public void EnsureSelfSigned_LooseKeyModes_AreTightened()
    {
        TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate.Dispose();
        File.SetUnixFileMode(CaKeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        File.SetUnixFileMode(TlsDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);

        TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate.Dispose();

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(CaKeyPath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(TlsDir));
    }

    [Theory]
    [InlineData("")]
    [InlineData("bad name")]
    [InlineData("-leading.example")]
    [InlineData("a..b")]
    [InlineData("caf\u00e9.example")]
    [InlineData("fe80::1%eth0")]
    public void EnsureSelfSigned_InvalidExtraHostName_Throws(string name)
    {
        Assert.Throws<ArgumentException>(() => TlsMaterial.EnsureSelfSigned(_stateDir, [name]));
    }

    [Fact]
    public void EnsureSelfSigned_ServerCertificate_ChainsToCaWithSansAndServerAuth()
    {
        using X509Certificate2 server = TlsMaterial.EnsureSelfSigned(_stateDir, ["db.example.com", "10.1.2.3", "2001:db8::7"]).ServerCertificate;

        Assert.True(ChainsToCa(server));
        string[] dnsNames = DnsNames(server);
        Assert.Contains("localhost", dnsNames);
        Assert.Contains("db.example.com", dnsNames);
        Assert.Contains(Environment.MachineName.ToLowerInvariant(), dnsNames);
        IPAddress[] addresses = server.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateIPAddresses().ToArray();
        Assert.Contains(IPAddress.Loopback, addresses);
        Assert.Contains(IPAddress.IPv6Loopback, addresses);
        Assert.Contains(IPAddress.Parse("10.1.2.3"), addresses);
        Assert.Contains(IPAddress.Parse("2001:db8::7"), addresses);
        var usage = server.Extensions.OfType<X509EnhancedKeyUsageExtension>().Single();
        Assert.Contains(usage.EnhancedKeyUsages.Cast<Oid>(), oid => oid.Value == "1.3.6.1.5.5.7.3.1");
    }

    [Fact]
    public async Task Handshake_GeneratedCertificateAndLocalhost_Succeeds()
    {
        using X509Certificate2 server = TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate;

        await HandshakeAsync(new SslServerAuthenticationOptions { ServerCertificate = server }, "localhost");
    }

    [Fact]
    public async Task Handshake_GeneratedCertificateAndLoopbackAddress_Succeeds()
    {
        using X509Certificate2 server = TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate;

        await HandshakeAsync(new SslServerAuthenticationOptions { ServerCertificate = server }, "127.0.0.1");
    }

    [Fact]
    public async Task Handshake_HostNameNotInCertificate_ClientRefuses()
    {
        using X509Certificate2 server = TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate;

        var e = await Assert.ThrowsAsync<AuthenticationException>(
            () => HandshakeAsync(new SslServerAuthenticationOptions { ServerCertificate = server }, "evil.example"));
        Assert.Contains("NameMismatch", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handshake_ClientTrustsAnotherCa_ClientRefuses()
    {
        using X509Certificate2 server = TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate;
        GeneratedTls other = TlsMaterial.EnsureSelfSigned(Path.Combine(_stateDir, "other"), []);
        other.ServerCertificate.Dispose();

        var e = await Assert.ThrowsAsync<AuthenticationException>(
            () => HandshakeAsync(new SslServerAuthenticationOptions { ServerCertificate = server }, "localhost", other.CaCertificatePath));
        Assert.Contains("chain", e.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task LoadServerCertificate_GeneratedPemFiles_WorksWithSslStream()
    {
        TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate.Dispose();

        using X509Certificate2 loaded = TlsMaterial.LoadServerCertificate(ServerPath, ServerKeyPath);

        Assert.True(loaded.HasPrivateKey);
        await HandshakeAsync(new SslServerAuthenticationOptions { ServerCertificate = loaded }, "localhost");
    }

    [Fact]
    public async Task LoadServerCertificate_RsaPkcs1Key_WorksWithSslStream()
    {
        TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate.Dispose();
        using X509Certificate2 ca = X509Certificate2.CreateFromPemFile(CaPath, CaKeyPath);
        using ECDsa caKey = ca.GetECDsaPrivateKey()!;
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=rsa-server", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        using X509Certificate2 issued = request.Create(
            ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), [1, 2, 3, 4]);
        string certFile = Path.Combine(_stateDir, "rsa.pem");
        string keyFile = Path.Combine(_stateDir, "rsa.key");
        File.WriteAllText(certFile, issued.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportRSAPrivateKeyPem()); // "RSA PRIVATE KEY" (PKCS#1)

        using X509Certificate2 loaded = TlsMaterial.LoadServerCertificate(certFile, keyFile);

        await HandshakeAsync(new SslServerAuthenticationOptions { ServerCertificate = loaded }, "localhost");
    }

    [Fact]
    public async Task LoadServerCertificateContext_ChainFile_SendsIntermediate()
    {
        string rootFile = WriteRoot(out X509Certificate2 root);
        using (root)
        {
            (string certFile, string keyFile) = WriteLeafUnderIntermediate(root);

            SslStreamCertificateContext context = TlsMaterial.LoadServerCertificateContext(certFile, keyFile);

            await HandshakeAsync(new SslServerAuthenticationOptions { ServerCertificateContext = context }, "localhost", rootFile);
        }
    }

    [Fact]
    public async Task LoadServerCertificate_ChainFile_LeafAloneIsNotEnoughForClients()
    {
        // Why LoadServerCertificateContext exists: with the bare certificate the intermediate never reaches the client.
        string rootFile = WriteRoot(out X509Certificate2 root);
        using (root)
        {
            (string certFile, string keyFile) = WriteLeafUnderIntermediate(root);
            using X509Certificate2 leafOnly = TlsMaterial.LoadServerCertificate(certFile, keyFile);

            var e = await Assert.ThrowsAsync<AuthenticationException>(
                () => HandshakeAsync(new SslServerAuthenticationOptions { ServerCertificate = leafOnly }, "localhost", rootFile));
            Assert.Contains("chain", e.Message, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Handshake_GeneratedCaSignsIntermediate_ClientRefuses()
    {
        // The generated CA carries pathLenConstraint 0: even with its key, nobody can hang a sub-CA under it.
        TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate.Dispose();
        using X509Certificate2 ca = X509Certificate2.CreateFromPemFile(CaPath, CaKeyPath);
        (string certFile, string keyFile) = WriteLeafUnderIntermediate(ca);
        SslStreamCertificateContext context = TlsMaterial.LoadServerCertificateContext(certFile, keyFile);

        var e = await Assert.ThrowsAsync<AuthenticationException>(
            () => HandshakeAsync(new SslServerAuthenticationOptions { ServerCertificateContext = context }, "localhost"));
        Assert.Contains("BasicConstraints", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadServerCertificate_KeyOfAnotherCertificate_Throws()
    {
        TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate.Dispose();

        var e = Assert.Throws<TlsMaterialException>(() => TlsMaterial.LoadServerCertificate(ServerPath, CaKeyPath));
        Assert.Contains(ServerPath, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadServerCertificate_MissingFile_Throws()
    {
        var e = Assert.Throws<TlsMaterialException>(() => TlsMaterial.LoadServerCertificate(Path.Combine(_stateDir, "none.pem"), Path.Combine(_stateDir, "none.key")));
        Assert.Contains("none.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadServerCertificate_EncryptedKey_ThrowsClearly()
    {
        TlsMaterial.EnsureSelfSigned(_stateDir, []).ServerCertificate.Dispose();
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        string keyFile = Path.Combine(_stateDir, "encrypted.key");
        File.WriteAllText(keyFile, key.ExportEncryptedPkcs8PrivateKeyPem("pw", new PbeParameters(PbeEncryptionAlgorithm.Aes128Cbc, HashAlgorithmName.SHA256, 1000)));

        var e = Assert.Throws<TlsMaterialException>(() => TlsMaterial.LoadServerCertificate(ServerPath, keyFile));
        Assert.Contains("encrypted", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadServerCertificate_ExpiredCertificate_Throws()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=old", key, HashAlgorithmName.SHA256);
        using X509Certificate2 old = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-30), DateTimeOffset.UtcNow.AddDays(-1));
        Directory.CreateDirectory(_stateDir);
        string certFile = Path.Combine(_stateDir, "old.pem");
        string keyFile = Path.Combine(_stateDir, "old.key");
        File.WriteAllText(certFile, old.ExportCertificatePem());
        File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());

        var e = Assert.Throws<TlsMaterialException>(() => TlsMaterial.LoadServerCertificate(certFile, keyFile));
        Assert.Contains("expired", e.Message, StringComparison.Ordinal);
    }

    private string WriteRoot(out X509Certificate2 root)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=test root", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        root = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30));
        Directory.CreateDirectory(_stateDir);
        string rootFile = Path.Combine(_stateDir, "root.pem");
        File.WriteAllText(rootFile, root.ExportCertificatePem());
        return rootFile;
    }

    // Writes chain.pem (leaf for "localhost", then an intermediate signed by issuer) and leaf.key (SEC1 "EC PRIVATE KEY").
    private (string CertFile, string KeyFile) WriteLeafUnderIntermediate(X509Certificate2 issuer)
    {
        using var intermediateKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var intermediateRequest = new CertificateRequest("CN=test intermediate", intermediateKey, HashAlgorithmName.SHA256);
        intermediateRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        intermediateRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using X509Certificate2 intermediatePublic = intermediateRequest.Create(issuer, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30), [7, 7, 7]);
        using X509Certificate2 intermediate = intermediatePublic.CopyWithPrivateKey(intermediateKey);
        using var leafKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var leafRequest = new CertificateRequest("CN=test leaf", leafKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName("localhost");
        leafRequest.CertificateExtensions.Add(san.Build());
        using X509Certificate2 leaf = leafRequest.Create(intermediate, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), [8, 8, 8]);
        Directory.CreateDirectory(_stateDir);
        string certFile = Path.Combine(_stateDir, "chain.pem");
        string keyFile = Path.Combine(_stateDir, "leaf.key");
        File.WriteAllText(certFile, leaf.ExportCertificatePem() + "\n" + intermediate.ExportCertificatePem());
        File.WriteAllText(keyFile, leafKey.ExportECPrivateKeyPem());
        return (certFile, keyFile);
    }

    private static string[] DnsNames(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509SubjectAlternativeNameExtension>().Single().EnumerateDnsNames().ToArray();

    private bool ChainsToCa(X509Certificate2 server)
    {
        using X509Certificate2 ca = X509CertificateLoader.LoadCertificateFromFile(CaPath);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(server) && chain.ChainElements[^1].Certificate.Thumbprint == ca.Thumbprint;
    }

    // A real TLS handshake over loopback TCP; the client trusts only the generated CA (or the one at trustedRootPath), then bytes go both ways.
    private async Task HandshakeAsync(SslServerAuthenticationOptions serverOptions, string targetHost, string? trustedRootPath = null)
    {
        using X509Certificate2 ca = X509CertificateLoader.LoadCertificateFromFile(trustedRootPath ?? CaPath);
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;

        using var timeout = new CancellationTokenSource(s_handshakeTimeout);
        using var client = new TcpClient();
        Task connect = client.ConnectAsync(IPAddress.Loopback, port, timeout.Token).AsTask();
        using TcpClient accepted = await listener.AcceptTcpClientAsync(timeout.Token);
        await connect;

        using var serverStream = new SslStream(accepted.GetStream());
        using var clientStream = new SslStream(client.GetStream());
        var clientOptions = new SslClientAuthenticationOptions
        {
            TargetHost = targetHost,
            CertificateChainPolicy = new X509ChainPolicy
            {
                TrustMode = X509ChainTrustMode.CustomRootTrust,
                RevocationMode = X509RevocationMode.NoCheck,
                CustomTrustStore = { ca },
            },
        };

        Task serverSide = ServeOneEchoAsync(serverStream, serverOptions, timeout.Token);
        Exception? clientFailure = null;
        try
        {
            await clientStream.AuthenticateAsClientAsync(clientOptions, timeout.Token);
            await clientStream.WriteAsync("ping"u8.ToArray(), timeout.Token);
            byte[] echo = new byte[4];
            await clientStream.ReadExactlyAsync(echo, timeout.Token);
            Assert.Equal("ping"u8.ToArray(), echo);
        }
        catch (Exception e)
        {
            clientFailure = e;
            client.Close(); // lets a server still waiting in the handshake fail instead of hanging
        }

        try
        {
            await serverSide;
        }
        catch when (clientFailure is not null)
        {
            // The server fails too, in whatever way, when the client refuses; the client's exception is what the tests assert.
        }

        if (clientFailure is not null)
        {
            ExceptionDispatchInfo.Throw(clientFailure);
        }
    }

    private static async Task ServeOneEchoAsync(SslStream stream, SslServerAuthenticationOptions options, CancellationToken cancellationToken)
    {
        await stream.AuthenticateAsServerAsync(options, cancellationToken);
        byte[] buffer = new byte[4];
        await stream.ReadExactlyAsync(buffer, cancellationToken);
        await stream.WriteAsync(buffer, cancellationToken);
    }

    private sealed class FixedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}

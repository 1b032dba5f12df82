using Appliance.Demo;

namespace Appliance.Tests.Systemd;

/// <summary>
/// Stand-ins for /etc/appliance, /var/lib/appliance and /run/appliance for one gateway process: a configuration
/// pointing at the fixture's PostgreSQL, the upstream password, the demo issuer's JWKS, owned like install.sh
/// and the unit arrange them (secrets and state belong to the service user).
/// </summary>
internal sealed class ServiceDirectory : IDisposable
{
    private readonly SystemdFixture _fx;

    public ServiceDirectory(SystemdFixture fx, string drainTimeout = "3s")
    {
        _fx = fx;
        Path = SystemdFixture.NewRoot("appliance-svc-");
        Port = PostgresProcess.FreePort();
        CreateOwnedDirectory(StateDir, 0x1E8);   // 0750
        CreateOwnedDirectory(RuntimeDir, 0x1E8); // 0750
        CreateOwnedDirectory(SecretsDir, 0x1C0); // 0700
        File.Copy(System.IO.Path.Combine(fx.Env.Directory, "keys", "jwks.json"), JwksPath);
        File.SetUnixFileMode(JwksPath, (UnixFileMode)0x1A4); // 0644
        WriteSecret("orders", fx.Env.UpstreamPassword);
        WriteConfig(ConfigYaml(drainTimeout));
    }

    public string Path { get; }
    public int Port { get; }
    public string ConfigPath => In("appliance.yaml");
    public string StateDir => In("state");
    public string RuntimeDir => In("run");
    public string SecretsDir => In("secrets");
    public string JwksPath => In("jwks.json");
    public string NotifySocketPath => In("notify.sock");
    public string CaPath => System.IO.Path.Combine(StateDir, "tls", "ca.pem");

    /// <summary>The configuration the tests start from: the demo issuer and one PostgreSQL target.</summary>
    public string ConfigYaml(string drainTimeout, string listen = "", string upstreamHost = "127.0.0.1") => $"""
        state_dir: {StateDir}
        identity:
          issuers:
            - name: demo
              issuer: {DemoEnvironment.Issuer}
              audiences: [{DemoEnvironment.Audience}]
              jwks_file: jwks.json
              algorithms: [ES256, RS256]
              jwks_refresh_interval: 1h      # only a reload picks up new keys during a test
        roles:
          - name: test
            claims: {"{"} repository: acme/shop {"}"}
        targets:
          - name: orders
            kind: postgres
            listen: {(listen.Length > 0 ? listen : $"127.0.0.1:{Port}")}
            upstream: {"{"} host: {upstreamHost}, port: {_fx.Env.Postgres.Port}, database: orders, user: {DemoEnvironment.UpstreamUser}, password_file: secrets/orders, tls: prefer {"}"}
            rules:
              - roles: [test]
                allow: [select]
        shutdown:
          drain_timeout: {drainTimeout}
        """;

    /// <summary>Writes the configuration as install.sh does: root-owned, readable by the service's group.</summary>
    public void WriteConfig(string yaml)
    {
        // Replaced atomically, as an editor or configuration management would.
        var temporary = ConfigPath + ".new";
        File.WriteAllText(temporary, yaml);
        File.SetUnixFileMode(temporary, (UnixFileMode)0x1A0); // 0640
        Posix.Chown(temporary, 0, _fx.ServiceGid);
        File.Move(temporary, ConfigPath, overwrite: true);
    }

    /// <summary>A secret owned by the service user, with the given mode (0600 unless a test wants it wrong).</summary>
    public string WriteSecret(string name, string content, UnixFileMode mode = UnixFileMode.UserRead | UnixFileMode.UserWrite)
    {
        var path = System.IO.Path.Combine(SecretsDir, name);
        File.WriteAllText(path, content + "\n");
        Posix.Chown(path, _fx.ServiceUid, _fx.ServiceGid);
        File.SetUnixFileMode(path, mode);
        return path;
    }

    /// <summary>Replaces the issuer's JWKS (key rotation).</summary>
    public void WriteJwks(string json)
    {
        var temporary = JwksPath + ".new";
        File.WriteAllText(temporary, json);
        File.SetUnixFileMode(temporary, (UnixFileMode)0x1A4);
        File.Move(temporary, JwksPath, overwrite: true);
    }

    private void CreateOwnedDirectory(string path, int mode)
    {
        Directory.CreateDirectory(path);
        Posix.Chown(path, _fx.ServiceUid, _fx.ServiceGid);
        File.SetUnixFileMode(path, (UnixFileMode)mode);
    }

    private string In(string relative) => System.IO.Path.Combine(Path, relative);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

using Appliance.Configuration;

namespace Appliance.Postgres;

/// <summary>A PostgreSQL target as the gateway runs it: its config and the upstream secret.</summary>
internal sealed class PgTarget
{
    public PgTarget(TargetConfig config, string password)
    {
        Config = config;
        Password = password;
        _catalog = new Lazy<Masking.MaskingCatalog>(() => new Masking.MaskingCatalog(config.Upstream, password));
    }

    private readonly Lazy<Masking.MaskingCatalog> _catalog;

    /// <summary>After DDL through the gateway: the masking catalog, if one is open, must be read again.</summary>
    public void InvalidateCatalog()
    {
        if (_catalog.IsValueCreated)
        {
            _catalog.Value.Invalidate();
        }
    }

    /// <summary>The catalog masking reads with the gateway's own connection; opened on first use.</summary>
    public Masking.MaskingCatalog Catalog => _catalog.Value;

    public string Name => Config.Name;
    public TargetConfig Config { get; }
    public string Password { get; }

    /// <summary>SCRAM's SaltedPassword for this target's password: derived once, not at every login.</summary>
    public Appliance.Protocols.Postgres.Auth.ScramSaltedPasswordCache ScramCache { get; } = new();

    /// <summary>Reads the upstream password: the first line of password_file, or empty when there is none (trust).</summary>
    public static PgTarget Load(TargetConfig config)
    {
        string password = "";
        if (config.Upstream.PasswordFile is { } file)
        {
            password = File.ReadAllText(file).TrimEnd('\r', '\n');
        }
        return new PgTarget(config, password);
    }
}

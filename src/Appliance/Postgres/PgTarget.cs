using Appliance.Configuration;

namespace Appliance.Postgres;

/// <summary>A PostgreSQL target as the gateway runs it: its config, the upstream secret and who may connect.</summary>
internal sealed class PgTarget
{
    private readonly HashSet<string> _allowedRoles;
    private readonly bool _anyRole;

    public PgTarget(TargetConfig config, string password)
    {
        Config = config;
        Password = password;
        _allowedRoles = config.Rules.SelectMany(r => r.Roles).ToHashSet(StringComparer.Ordinal);
        _anyRole = _allowedRoles.Contains("*");
    }

    public string Name => Config.Name;
    public TargetConfig Config { get; }
    public string Password { get; }

    /// <summary>True when one of the roles is named by at least one of the target's rules.</summary>
    public bool AdmitsAnyOf(IReadOnlyList<string> roles)
    {
        if (_anyRole) return true;
        foreach (var role in roles)
        {
            if (_allowedRoles.Contains(role)) return true;
        }
        return false;
    }

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

namespace Appliance.Configuration;

/// <summary>The whole configuration file, as validated by <see cref="ConfigLoader"/>.</summary>
public sealed class ApplianceConfig
{
    /// <summary>The file this configuration came from (for messages).</summary>
    public string SourcePath { get; set; } = "";
    public string StateDir { get; set; } = "/var/lib/appliance";
    public AdminConfig? Admin { get; set; }
    public IdentityConfig Identity { get; set; } = new();
    public List<RoleConfig> Roles { get; set; } = [];
    public List<TargetConfig> Targets { get; set; } = [];
    public ShutdownConfig Shutdown { get; set; } = new();
    public LimitsConfig Limits { get; set; } = new();
    public RecordConfig Record { get; set; } = new();
    public ApprovalsConfig Approvals { get; set; } = new();

    /// <summary>Function names (globs) added to the built-in guarded list: refused unless an allow rule names them.</summary>
    public List<string> GuardedFunctions { get; set; } = [];

    /// <summary>
    /// Where each key path (<c>targets[0].upstream.port</c>) was in the file, for messages about
    /// values after loading; empty for a configuration built in code.
    /// </summary>
    public Dictionary<string, ConfigPosition> Positions { get; set; } = new(StringComparer.Ordinal);
}

public sealed class AdminConfig
{
    public string Listen { get; set; } = "127.0.0.1:8080";
    /// <summary>Roles whose tokens may call the admin API (policy reload).</summary>
    public List<string> Roles { get; set; } = [];

    /// <summary>Serve the gateway's metrics at <c>GET /metrics</c> (Prometheus text format), without a token.</summary>
    public bool Metrics { get; set; }
}

public sealed class ShutdownConfig
{
    /// <summary>How long open sessions may drain after stop is requested.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class LimitsConfig
{
    /// <summary>Largest PostgreSQL message accepted from a client, in bytes.</summary>
    public int MaxClientMessageBytes { get; set; } = 64 * 1024 * 1024;
    /// <summary>Largest startup packet (PostgreSQL itself uses 10,000).</summary>
    public int MaxStartupPacketBytes { get; set; } = 10_000;
    /// <summary>How long a client has to finish TLS, startup and authentication.</summary>
    public TimeSpan LoginTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public int MaxSessions { get; set; } = 10_000;
}

/// <summary>What the recorder does when the store's queue is full.</summary>
public enum RecordWhenFull
{
    /// <summary>The session waits for room (it slows down; nothing is lost).</summary>
    Block,

    /// <summary>The session is ended rather than run unrecorded.</summary>
    FailSession,
}

/// <summary>Session recording: the segment store under <see cref="Dir"/> (default <c>state_dir/sessions</c>).</summary>
public sealed class RecordConfig
{
    public bool Enabled { get; set; } = true;
    /// <summary>The store directory; null for <c>state_dir/sessions</c>.</summary>
    public string? Dir { get; set; }
    public int SegmentMaxBytes { get; set; } = 64 * 1024 * 1024;
    public Storage.FsyncPolicy Fsync { get; set; } = Storage.FsyncPolicy.Batch;
    /// <summary>For <c>fsync: interval</c>: the longest time written records stay unsynced.</summary>
    public TimeSpan FsyncInterval { get; set; } = TimeSpan.FromSeconds(1);
    /// <summary>The in-memory queue between sessions and the store writer, in bytes.</summary>
    public int QueueCapacity { get; set; } = 8 * 1024 * 1024;
    public RecordWhenFull WhenFull { get; set; } = RecordWhenFull.Block;
    /// <summary>Result rows recorded per statement, in bytes of row data; 0 records none.</summary>
    public int MaxResultBytes { get; set; } = 64 * 1024;
    public TimeSpan? RetentionMaxAge { get; set; }
    public long? RetentionMaxTotalBytes { get; set; }

    /// <summary>The store directory for a configuration whose state directory is <paramref name="stateDir"/>.</summary>
    public string Directory(string stateDir) => Dir ?? Path.Combine(stateDir, "sessions");
}

public sealed class IdentityConfig
{
    public List<IssuerConfig> Issuers { get; set; } = [];
}

public sealed class IssuerConfig
{
    public string Name { get; set; } = "";
    public string Issuer { get; set; } = "";
    public List<string> Audiences { get; set; } = [];
    public string? JwksFile { get; set; }
    public string? JwksUri { get; set; }
    /// <summary>Allowed signing algorithms; RS256 and ES256 unless configured.</summary>
    public List<string> Algorithms { get; set; } = ["RS256", "ES256"];
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
    /// <summary>Minimum time between JWKS refetches triggered by an unknown kid.</summary>
    public TimeSpan JwksRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>A principal gets the role when every listed claim matches.</summary>
public sealed class RoleConfig
{
    public string Name { get; set; } = "";
    /// <summary>Claim name → pattern (exact, or with <c>*</c> globs).</summary>
    public Dictionary<string, string> Claims { get; set; } = new(StringComparer.Ordinal);
}

public enum UpstreamTlsMode { Disable, Prefer, Require, VerifyFull }

public sealed class TlsConfig
{
    public string? CertFile { get; set; }
    public string? KeyFile { get; set; }
}

public sealed class UpstreamConfig
{
    public string Host { get; set; } = "";
    public int Port { get; set; } = 5432;
    public string Database { get; set; } = "";
    public string User { get; set; } = "";
    public string? PasswordFile { get; set; }
    public UpstreamTlsMode Tls { get; set; } = UpstreamTlsMode.Prefer;
    /// <summary>CA bundle for <c>verify-full</c>; the system store when absent.</summary>
    public string? CaFile { get; set; }
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
    /// <summary>How old the gateway's copy of the catalog (views, functions, masked relations) may be when a statement needs it.</summary>
    public TimeSpan CatalogMaxAge { get; set; } = TimeSpan.FromSeconds(30);
}

public sealed class TargetConfig
{
    public string Name { get; set; } = "";
    public string Kind { get; set; } = "postgres";
    public string Listen { get; set; } = "127.0.0.1:5432";
    public TlsConfig? Tls { get; set; }
    /// <summary>Permit cleartext tokens over plain TCP on a non-loopback listener.</summary>
    public bool AllowInsecure { get; set; }
    public UpstreamConfig Upstream { get; set; } = new();
    public List<RuleConfig> Rules { get; set; } = [];
    public List<MaskingConfig> Masking { get; set; } = [];
    /// <summary>Functions (schema.name globs) the operator vouches read no table: calls to them pass deny and review rules with tables.</summary>
    public List<string> TrustedFunctions { get; set; } = [];
    /// <summary>Line of the target in the source file (for messages).</summary>
    public int Line { get; set; }
}

public sealed class RuleConfig
{
    public List<string> Roles { get; set; } = [];
    public List<string> Allow { get; set; } = [];
    public List<string> Deny { get; set; } = [];
    public List<string> Review { get; set; } = [];
    public List<string> Tables { get; set; } = [];
    /// <summary>Deny/review: the rule matches statements calling one of these. Allow: permits these guarded functions.</summary>
    public List<string> Functions { get; set; } = [];
    public List<string> Approvers { get; set; } = [];
    public int Approvals { get; set; } = 1;
    public TimeSpan? Timeout { get; set; }
    public int Line { get; set; }
}

public sealed class MaskingConfig
{
    public List<string> Columns { get; set; } = [];
    public string Strategy { get; set; } = "redact";
    public int Keep { get; set; } = 4;
    /// <summary>Hash only: target | global | session.</summary>
    public string Scope { get; set; } = "target";
    /// <summary>null | refuse.</summary>
    public string UnsupportedTypes { get; set; } = "null";
    public List<string> Roles { get; set; } = [];
    public List<string> ExemptRoles { get; set; } = [];
    public int Line { get; set; }
}

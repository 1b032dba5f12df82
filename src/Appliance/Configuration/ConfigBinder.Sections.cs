using System.Buffers;
using System.Net;

namespace Appliance.Configuration;

internal sealed partial class ConfigBinder
{
    private static readonly string[] s_rootKeys = ["state_dir", "admin", "identity", "roles", "targets", "shutdown", "limits", "guarded_functions", "record", "approvals"];
    private static readonly string[] s_adminKeys = ["listen", "roles", "metrics"];
    private static readonly string[] s_identityKeys = ["issuers"];
    private static readonly string[] s_issuerKeys =
        ["name", "issuer", "audiences", "jwks_file", "jwks_uri", "algorithms", "clock_skew", "jwks_refresh_interval"];
    private static readonly string[] s_roleKeys = ["name", "claims"];
    private static readonly string[] s_targetKeys = ["name", "kind", "listen", "tls", "allow_insecure", "upstream", "rules", "masking", "trusted_functions"];
    private static readonly string[] s_tlsKeys = ["cert_file", "key_file"];
    private static readonly string[] s_upstreamKeys =
        ["host", "port", "database", "user", "password_file", "tls", "ca_file", "connect_timeout", "catalog_max_age"];
    private static readonly string[] s_ruleKeys = ["roles", "allow", "deny", "review", "tables", "functions", "approvers", "approvals", "timeout"];
    private static readonly string[] s_ruleActions = ["allow", "deny", "review"];
    private static readonly string[] s_reviewOnlyKeys = ["approvers", "approvals", "timeout"];
    private static readonly string[] s_maskingKeys = ["columns", "strategy", "keep", "scope", "unsupported_types", "roles", "exempt_roles"];
    private static readonly string[] s_shutdownKeys = ["drain_timeout"];
    private static readonly string[] s_limitsKeys =
        ["max_client_message_bytes", "max_startup_packet_bytes", "login_timeout", "max_sessions"];
    private static readonly string[] s_recordKeys =
        ["enabled", "dir", "segment_max_bytes", "fsync", "fsync_interval", "queue_capacity", "when_full", "max_result_bytes", "retention"];
    private static readonly string[] s_retentionKeys = ["max_age", "max_total_bytes"];
    private static readonly string[] s_approvalsKeys =
        ["dir", "max_pending", "max_pending_per_principal", "default_timeout", "keep_decided", "webhook", "pre_approval"];
    private static readonly string[] s_webhookKeys = ["url", "secret_file", "attempts", "backoff", "timeout"];
    private static readonly string[] s_preApprovalKeys = ["max_uses", "max_ttl"];

    private static readonly SearchValues<char> s_nameChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.");

    // Role names defined so far; roles are bound before targets, whatever the order in the file.
    private readonly HashSet<string> _roleNames = new(StringComparer.Ordinal);

    /// <summary>Binds and validates the whole document; null when any error was reported.</summary>
    public ApplianceConfig? Bind(ConfigNode? root, string sourcePath)
    {
        if (root is null || ReadSection(root, "", s_rootKeys) is not { } section)
        {
            return null;
        }

        var config = new ApplianceConfig { SourcePath = sourcePath, Positions = _positions };
        if (section.String("state_dir") is { } stateDir)
        {
            if (stateDir.Length == 0)
            {
                Error("state_dir", "must not be empty");
            }
            else
            {
                config.StateDir = ResolvePath(stateDir);
            }
        }

        IPEndPoint? adminEndpoint = null;
        var adminSection = section.Section("admin", s_adminKeys);
        if (adminSection is { } admin)
        {
            config.Admin = new AdminConfig();
            if (admin.String("listen", required: true) is { Length: > 0 } listen)
            {
                config.Admin.Listen = listen;
                adminEndpoint = ParseListen(admin.KeyPath("listen"), listen);
            }
            config.Admin.Roles = admin.StringList("roles") ?? [];
            config.Admin.Metrics = admin.Bool("metrics") ?? false;
        }

        if (section.Section("identity", s_identityKeys) is { } identity)
        {
            BindIssuers(identity, config.Identity.Issuers);
        }

        config.GuardedFunctions = section.StringList("guarded_functions") ?? [];

        // Roles first: rules and masking entries refer to role names.
        BindRoles(section, config.Roles);
        if (adminSection is not null && config.Admin is not null)
        {
            CheckRoleReferences(adminSection.KeyPath("roles"), config.Admin.Roles, allowAny: false);
        }
        var listeners = new List<BoundListener>();
        BindTargets(section, config.Targets, listeners);
        CheckListeners(listeners, adminEndpoint);

        if (section.Section("shutdown", s_shutdownKeys) is { } shutdown)
        {
            config.Shutdown.DrainTimeout = shutdown.Duration("drain_timeout") ?? config.Shutdown.DrainTimeout;
        }

        if (section.Section("limits", s_limitsKeys) is { } limits)
        {
            BindLimits(limits, config.Limits);
        }

        if (section.Section("record", s_recordKeys) is { } record)
        {
            BindRecord(record, config.Record);
        }

        if (section.Section("approvals", s_approvalsKeys) is { } approvals)
        {
            BindApprovals(approvals, config.Approvals);
        }

        return _errors.Count == 0 ? config : null;
    }

    private void BindIssuers(ConfigSection identity, List<IssuerConfig> issuers)
    {
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var urls = new Dictionary<string, (string Name, int Line)>(StringComparer.Ordinal);
        foreach (var (node, path) in identity.Items("issuers"))
        {
            if (ReadSection(node, path, s_issuerKeys) is not { } s)
            {
                continue;
            }

            var issuer = new IssuerConfig { Name = Name(s, "issuer", names) };
            issuer.Issuer = s.String("issuer", required: true) ?? "";
            if (issuer.Issuer.Length > 0 && !urls.TryAdd(issuer.Issuer, (issuer.Name, At(s.KeyPath("issuer")).Line)))
            {
                var first = urls[issuer.Issuer];
                Error(s.KeyPath("issuer"),
                    $"issuer {ConfigText.Quote(issuer.Issuer, 200)} is already configured as '{first.Name}' (line {first.Line})");
            }

            issuer.Audiences = s.StringList("audiences", required: true) ?? [];
            RequireNonEmptyItems(s.KeyPath("audiences"), issuer.Audiences);

            var jwksFile = s.String("jwks_file");
            var jwksUri = s.String("jwks_uri");
            if (jwksFile is not null && jwksUri is not null)
            {
                Error(s.KeyPath("jwks_uri"), "set either jwks_file or jwks_uri, not both");
            }
            else if (jwksFile is null && jwksUri is null)
            {
                Error(s.Path, "needs jwks_file or jwks_uri");
            }

            issuer.JwksFile = FilePath(s, "jwks_file", jwksFile);
            if (jwksUri is not null)
            {
                if (Uri.TryCreate(jwksUri, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp))
                {
                    issuer.JwksUri = jwksUri;
                }
                else
                {
                    Error(s.KeyPath("jwks_uri"), $"expected an absolute https:// URL, got {ConfigText.Quote(jwksUri, 200)}");
                }
            }

            if (s.StringList("algorithms") is { } algorithms)
            {
                if (algorithms.Count == 0)
                {
                    Error(s.KeyPath("algorithms"), "must not be empty (leave it out for RS256 and ES256)");
                }

                for (var i = 0; i < algorithms.Count; i++)
                {
                    CheckAlgorithm($"{s.KeyPath("algorithms")}[{i}]", algorithms[i]);
                }

                issuer.Algorithms = algorithms;
            }

            issuer.ClockSkew = s.Duration("clock_skew") ?? issuer.ClockSkew;
            issuer.JwksRefreshInterval = s.Duration("jwks_refresh_interval") ?? issuer.JwksRefreshInterval;
            issuers.Add(issuer);
        }
    }

    private void CheckAlgorithm(string path, string algorithm)
    {
        if (ConfigVocabulary.SigningAlgorithms.Contains(algorithm))
        {
            return;
        }

        if (algorithm.StartsWith("HS", StringComparison.OrdinalIgnoreCase))
        {
            Error(path, $"algorithm {ConfigText.Quote(algorithm)} is rejected: HMAC uses a shared secret, "
                + "and a key published in a JWKS must never be accepted as one");
        }
        else if (algorithm.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            Error(path, "algorithm 'none' is rejected: it accepts unsigned tokens");
        }
        else
        {
            Error(path, $"unknown algorithm {ConfigText.Quote(algorithm)}; expected one of: "
                + string.Join(", ", ConfigVocabulary.SigningAlgorithms));
        }
    }

    private void BindRoles(ConfigSection root, List<RoleConfig> roles)
    {
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (node, path) in root.Items("roles"))
        {
            if (ReadSection(node, path, s_roleKeys) is not { } s)
            {
                continue;
            }

            var role = new RoleConfig { Name = Name(s, "role", names) };
            if (role.Name.Length > 0)
            {
                _roleNames.Add(role.Name);
            }

            if (s.Section("claims", allowedKeys: null, required: true) is { } claims)
            {
                foreach (var key in claims.EmptyKeys)
                {
                    Error(claims.KeyPath(key), "expected a claim pattern, got nothing");
                }

                if (claims.Entries.Count == 0 && claims.EmptyKeys.Count == 0)
                {
                    Error(claims.Path, "must list at least one claim");
                }

                foreach (var (claim, value) in claims.Entries)
                {
                    if (claim.Length == 0)
                    {
                        Error(claims.KeyPath(claim), "claim names must not be empty");
                    }
                    else if (ReadString(value, claims.KeyPath(claim)) is { } pattern)
                    {
                        role.Claims[claim] = pattern;
                    }
                }
            }

            roles.Add(role);
        }
    }

    private void BindTargets(ConfigSection root, List<TargetConfig> targets, List<BoundListener> listeners)
    {
        var names = new Dictionary<string, (int Line, IPEndPoint? Endpoint)>(StringComparer.Ordinal);
        foreach (var (node, path) in root.Items("targets"))
        {
            if (ReadSection(node, path, s_targetKeys) is not { } s)
            {
                continue;
            }

            var target = new TargetConfig { Line = s.Line, Name = Name(s, "target", names: null) };
            if (s.String("kind", required: true) is { Length: > 0 } kind)
            {
                if (ConfigVocabulary.TargetKinds.Contains(kind))
                {
                    target.Kind = kind;
                }
                else if (ConfigVocabulary.PlannedTargetKinds.Contains(kind))
                {
                    Error(s.KeyPath("kind"), $"kind {ConfigText.Quote(kind)} is not supported yet");
                }
                else
                {
                    Error(s.KeyPath("kind"), $"unknown kind {ConfigText.Quote(kind)}; expected one of: "
                        + string.Join(", ", ConfigVocabulary.TargetKinds));
                }
            }

            IPEndPoint? endpoint = null;
            if (s.String("listen", required: true) is { Length: > 0 } listen)
            {
                target.Listen = listen;
                endpoint = ParseListen(s.KeyPath("listen"), listen);
            }

            if (target.Name.Length > 0 && !names.TryAdd(target.Name, (s.Line, endpoint)))
            {
                var first = names[target.Name];
                Error(s.KeyPath("name"), endpoint is not null && endpoint.Equals(first.Endpoint)
                    ? $"target {ConfigText.Quote(target.Name)} is defined twice on listener {endpoint} (first at line {first.Line}); "
                        + "targets sharing a listener are told apart by name"
                    : $"duplicate target name {ConfigText.Quote(target.Name)} (first at line {first.Line})");
            }

            if (s.Section("tls", s_tlsKeys) is { } tls)
            {
                var cert = FilePath(tls, "cert_file", tls.String("cert_file"));
                var key = FilePath(tls, "key_file", tls.String("key_file"));
                if ((cert is null) != (key is null))
                {
                    Error(tls.KeyPath(cert is null ? "cert_file" : "key_file"),
                        "is required when " + (cert is null ? "key_file" : "cert_file") + " is set; give both or neither");
                }

                // Neither means the same as no tls section: a self-signed pair in state_dir.
                target.Tls = cert is null && key is null ? null : new TlsConfig { CertFile = cert, KeyFile = key };
            }

            target.AllowInsecure = s.Bool("allow_insecure") ?? false;
            if (s.Section("upstream", s_upstreamKeys, required: true) is { } upstream)
            {
                BindUpstream(upstream, target.Upstream);
            }

            foreach (var (ruleNode, rulePath) in s.Items("rules"))
            {
                if (ReadSection(ruleNode, rulePath, s_ruleKeys) is { } rule)
                {
                    target.Rules.Add(BindRule(rule));
                }
            }

            foreach (var (maskNode, maskPath) in s.Items("masking"))
            {
                if (ReadSection(maskNode, maskPath, s_maskingKeys) is { } mask)
                {
                    target.Masking.Add(BindMasking(mask));
                }
            }

            if (s.StringList("trusted_functions") is { } trusted)
            {
                for (var i = 0; i < trusted.Count; i++)
                {
                    // A literal schema: a glob over schemas would trust whatever a job creates in a schema of its own.
                    var parts = trusted[i].Split('.');
                    if (parts.Length != 2 || parts.Any(p => p.Length == 0 || p.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '*'))) || parts[0].Contains('*'))
                    {
                        Error($"{s.KeyPath("trusted_functions")}[{i}]",
                            $"expected a function name with its schema, the name part may be a glob (such as public.uuid_generate_v4 or postgis.st_*), got {ConfigText.Quote(trusted[i])}");
                    }
                }

                target.TrustedFunctions = trusted;
            }

            if (endpoint is not null)
            {
                listeners.Add(new BoundListener(endpoint, s.KeyPath("listen"), s.KeyPath("tls"), target));
            }

            targets.Add(target);
        }
    }

    private void BindUpstream(ConfigSection s, UpstreamConfig upstream)
    {
        upstream.Host = s.String("host", required: true) ?? "";
        if (s.Int("port") is { } port)
        {
            upstream.Port = port;
            if (port is < 1 or > 65535)
            {
                Error(s.KeyPath("port"), $"must be from 1 to 65535, got {port}");
            }
        }

        upstream.Database = s.String("database", required: true) ?? "";
        upstream.User = s.String("user", required: true) ?? "";
        upstream.PasswordFile = FilePath(s, "password_file", s.String("password_file"));
        var tlsValid = true;
        if (s.String("tls") is { } tls)
        {
            tlsValid = ConfigVocabulary.TryParseUpstreamTls(tls, out var mode);
            if (tlsValid)
            {
                upstream.Tls = mode;
            }
            else
            {
                Error(s.KeyPath("tls"), $"expected one of: disable, prefer, require, verify-full, got {ConfigText.Quote(tls)}");
            }
        }

        upstream.CaFile = FilePath(s, "ca_file", s.String("ca_file"));
        if (upstream.CaFile is not null && tlsValid && upstream.Tls != UpstreamTlsMode.VerifyFull)
        {
            Error(s.KeyPath("ca_file"), "is used only with tls: verify-full (other modes do not verify the server)");
        }

        upstream.ConnectTimeout = Positive(s, "connect_timeout") ?? upstream.ConnectTimeout;
        upstream.CatalogMaxAge = Positive(s, "catalog_max_age") ?? upstream.CatalogMaxAge;
    }

    private RuleConfig BindRule(ConfigSection s)
    {
        var rule = new RuleConfig { Line = s.Line };
        rule.Roles = s.StringList("roles", required: true) ?? [];
        CheckRoleReferences(s.KeyPath("roles"), rule.Roles, allowAny: true);

        string? action = null;
        foreach (var key in s_ruleActions)
        {
            if (!s.Has(key))
            {
                continue;
            }

            if (action is not null)
            {
                Error(s.KeyPath(key), $"a rule takes exactly one of allow, deny or review; this one also has {action}");
            }

            action ??= key;
            var classes = s.StringList(key, required: true) ?? [];
            for (var i = 0; i < classes.Count; i++)
            {
                if (!ConfigVocabulary.StatementClasses.Contains(classes[i]))
                {
                    Error($"{s.KeyPath(key)}[{i}]", $"unknown statement class {ConfigText.Quote(classes[i])}; expected one of: "
                        + string.Join(", ", ConfigVocabulary.StatementClasses));
                }
            }

            switch (key)
            {
                case "allow":
                    rule.Allow = classes;
                    break;
                case "deny":
                    rule.Deny = classes;
                    break;
                default:
                    rule.Review = classes;
                    break;
            }
        }

        if (action is null)
        {
            Error(s.Path, "needs one of allow, deny or review");
        }

        if (s.StringList("tables") is { } tables)
        {
            for (var i = 0; i < tables.Count; i++)
            {
                if (!IsTablePattern(tables[i]))
                {
                    Error($"{s.KeyPath("tables")}[{i}]",
                        $"expected schema.table (globs allowed, e.g. public.*) or *, got {ConfigText.Quote(tables[i])}");
                }
            }

            rule.Tables = tables;
        }

        if (s.StringList("functions") is { } functions)
        {
            for (var i = 0; i < functions.Count; i++)
            {
                if (functions[i].Length == 0 || functions[i].Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '*')))
                {
                    Error($"{s.KeyPath("functions")}[{i}]", $"expected a function name or glob such as lo_import or pg_catalog.pg_read_*, got {ConfigText.Quote(functions[i])}");
                }
            }

            rule.Functions = functions;
        }

        if (action is not null and not "review")
        {
            foreach (var key in s_reviewOnlyKeys)
            {
                if (s.Has(key))
                {
                    Error(s.KeyPath(key), "applies only to review rules");
                }
            }

            return rule;
        }

        rule.Approvers = s.StringList("approvers", required: action is "review") ?? [];
        CheckRoleReferences(s.KeyPath("approvers"), rule.Approvers, allowAny: false);
        if (s.Int("approvals") is { } approvals)
        {
            rule.Approvals = approvals;
            if (approvals < 1)
            {
                Error(s.KeyPath("approvals"), $"must be at least 1, got {approvals}");
            }
        }

        rule.Timeout = Positive(s, "timeout");
        return rule;
    }

    private MaskingConfig BindMasking(ConfigSection s)
    {
        var mask = new MaskingConfig { Line = s.Line };
        mask.Columns = s.StringList("columns", required: true) ?? [];
        for (var i = 0; i < mask.Columns.Count; i++)
        {
            if (!IsColumnName(mask.Columns[i]))
            {
                Error($"{s.KeyPath("columns")}[{i}]", $"expected schema.table.column, got {ConfigText.Quote(mask.Columns[i])}");
            }
        }

        if (s.String("strategy") is { } strategy)
        {
            mask.Strategy = strategy;
            if (!ConfigVocabulary.MaskingStrategies.Contains(strategy))
            {
                Error(s.KeyPath("strategy"), $"expected one of: {string.Join(", ", ConfigVocabulary.MaskingStrategies)}, "
                    + $"got {ConfigText.Quote(strategy)}");
            }
        }

        if (s.Int("keep") is { } keep)
        {
            mask.Keep = keep;
            if (mask.Strategy != "partial")
            {
                Error(s.KeyPath("keep"), "applies only to strategy: partial");
            }
            else if (keep < 0)
            {
                Error(s.KeyPath("keep"), $"must not be negative, got {keep}");
            }
        }

        if (s.String("scope") is { } scope)
        {
            mask.Scope = scope;
            if (!ConfigVocabulary.HashScopes.Contains(scope))
            {
                Error(s.KeyPath("scope"), $"expected one of: {string.Join(", ", ConfigVocabulary.HashScopes)}, got {ConfigText.Quote(scope)}");
            }
            else if (mask.Strategy != "hash")
            {
                Error(s.KeyPath("scope"), "applies only to strategy: hash");
            }
        }

        if (s.String("unsupported_types") is { } unsupported)
        {
            mask.UnsupportedTypes = unsupported;
            if (!ConfigVocabulary.UnsupportedTypeActions.Contains(unsupported))
            {
                Error(s.KeyPath("unsupported_types"), $"expected one of: {string.Join(", ", ConfigVocabulary.UnsupportedTypeActions)}, got {ConfigText.Quote(unsupported)}");
            }
        }

        mask.Roles = s.StringList("roles") ?? [];
        CheckRoleReferences(s.KeyPath("roles"), mask.Roles, allowAny: true);
        mask.ExemptRoles = s.StringList("exempt_roles") ?? [];
        CheckRoleReferences(s.KeyPath("exempt_roles"), mask.ExemptRoles, allowAny: false);
        return mask;
    }

    private void BindLimits(ConfigSection s, LimitsConfig limits)
    {
        limits.MaxClientMessageBytes = PositiveInt(s, "max_client_message_bytes") ?? limits.MaxClientMessageBytes;
        limits.MaxStartupPacketBytes = PositiveInt(s, "max_startup_packet_bytes") ?? limits.MaxStartupPacketBytes;
        limits.LoginTimeout = Positive(s, "login_timeout") ?? limits.LoginTimeout;
        limits.MaxSessions = PositiveInt(s, "max_sessions") ?? limits.MaxSessions;
    }

    /// <summary>Reads a required <c>name</c>, checks its spelling and (when <paramref name="names"/> is given) its uniqueness.</summary>
    private string Name(ConfigSection s, string what, Dictionary<string, int>? names)
    {
        var name = s.String("name", required: true) ?? "";
        if (name.Length == 0)
        {
            return name;
        }

        if (name.Length > 63 || !char.IsAsciiLetterOrDigit(name[0]) || name.AsSpan().ContainsAnyExcept(s_nameChars))
        {
            Error(s.KeyPath("name"), $"{what} name {ConfigText.Quote(name)} must start with a letter or digit and contain only "
                + "letters, digits, '_', '-' and '.' (at most 63 characters)");
        }

        if (names is not null && !names.TryAdd(name, s.Line))
        {
            Error(s.KeyPath("name"), $"duplicate {what} name {ConfigText.Quote(name)} (first at line {names[name]})");
        }

        return name;
    }

    private void CheckRoleReferences(string path, List<string> roles, bool allowAny)
    {
        for (var i = 0; i < roles.Count; i++)
        {
            if (allowAny && roles[i] == ConfigVocabulary.AnyRole)
            {
                continue;
            }

            if (!_roleNames.Contains(roles[i]))
            {
                Error($"{path}[{i}]", $"role {ConfigText.Quote(roles[i])} is not defined in roles");
            }
        }
    }

    private void RequireNonEmptyItems(string path, List<string> items)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].Length == 0)
            {
                Error($"{path}[{i}]", "must not be empty");
            }
        }
    }

    /// <summary>An optional file path, made absolute; an empty string is an error.</summary>
    private string? FilePath(ConfigSection s, string key, string? value)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length == 0)
        {
            Error(s.KeyPath(key), "must not be empty");
            return null;
        }

        return ResolvePath(value);
    }

    private TimeSpan? Positive(ConfigSection s, string key)
    {
        var value = s.Duration(key);
        if (value == TimeSpan.Zero)
        {
            Error(s.KeyPath(key), "must be longer than 0s");
            return null;
        }

        return value;
    }

    private int? PositiveInt(ConfigSection s, string key)
    {
        var value = s.Int(key);
        if (value <= 0)
        {
            Error(s.KeyPath(key), $"must be at least 1, got {value}");
            return null;
        }

        return value;
    }

    private IPEndPoint? ParseListen(string path, string listen)
    {
        if (ListenEndpoint.TryParse(listen, out var endpoint, out var error))
        {
            return endpoint;
        }

        Error(path, error);
        return null;
    }

    private static bool IsTablePattern(string pattern)
    {
        if (pattern == "*")
        {
            return true;
        }

        var dot = pattern.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && dot < pattern.Length - 1 && pattern.IndexOf('.', dot + 1) < 0 && !pattern.Any(char.IsWhiteSpace);
    }

    private static bool IsColumnName(string column)
    {
        var parts = column.Split('.');
        return parts.Length == 3 && parts.All(p => p.Length > 0 && !p.Any(char.IsWhiteSpace));
    }

    private void BindRecord(ConfigSection s, RecordConfig record)
    {
        record.Enabled = s.Bool("enabled") ?? record.Enabled;
        if (s.String("dir") is { } dir)
        {
            if (dir.Length == 0)
            {
                Error(s.KeyPath("dir"), "must not be empty (leave it out for state_dir/sessions)");
            }
            else
            {
                record.Dir = ResolvePath(dir);
            }
        }

        record.SegmentMaxBytes = (int?)ByteSize(s, "segment_max_bytes", 1024 * 1024, 1024 * 1024 * 1024) ?? record.SegmentMaxBytes;
        var fsync = s.String("fsync");
        if (fsync is not null)
        {
            switch (fsync)
            {
                case "always":
                    record.Fsync = Storage.FsyncPolicy.Always;
                    break;
                case "batch":
                    record.Fsync = Storage.FsyncPolicy.Batch;
                    break;
                case "interval":
                    record.Fsync = Storage.FsyncPolicy.Interval;
                    break;
                default:
                    Error(s.KeyPath("fsync"), $"expected one of: always, batch, interval, got {ConfigText.Quote(fsync)}");
                    break;
            }
        }

        if (Positive(s, "fsync_interval") is { } interval)
        {
            record.FsyncInterval = interval;
            if (fsync is "always" or "batch" or null)
            {
                Error(s.KeyPath("fsync_interval"), "applies only to fsync: interval");
            }
        }

        record.QueueCapacity = (int?)ByteSize(s, "queue_capacity", 4 * 1024 * 1024, 1024 * 1024 * 1024) ?? record.QueueCapacity;
        if (s.String("when_full") is { } whenFull)
        {
            switch (whenFull)
            {
                case "block":
                    record.WhenFull = RecordWhenFull.Block;
                    break;
                case "fail-session":
                    record.WhenFull = RecordWhenFull.FailSession;
                    break;
                default:
                    Error(s.KeyPath("when_full"), $"expected block or fail-session, got {ConfigText.Quote(whenFull)}");
                    break;
            }
        }

        record.MaxResultBytes = (int?)ByteSize(s, "max_result_bytes", 0, 64 * 1024 * 1024) ?? record.MaxResultBytes;
        if (s.Section("retention", s_retentionKeys) is { } retention)
        {
            record.RetentionMaxAge = Positive(retention, "max_age");
            record.RetentionMaxTotalBytes = ByteSize(retention, "max_total_bytes", 1, long.MaxValue);
            if (record.RetentionMaxTotalBytes < record.SegmentMaxBytes)
            {
                Error(retention.KeyPath("max_total_bytes"),
                    $"must be at least segment_max_bytes ({record.SegmentMaxBytes} bytes): retention deletes whole segments");
            }
        }
    }

    /// <summary>A byte size (<c>65536</c>, <c>64KiB</c>, <c>64MiB</c>, <c>10GB</c>) from <paramref name="min"/> to <paramref name="max"/>.</summary>
    private long? ByteSize(ConfigSection s, string key, long min, long max)
    {
        if (s.String(key) is not { } text)
        {
            return null;
        }

        if (!ByteSizeText.TryParse(text, out var value))
        {
            Error(s.KeyPath(key), $"expected a size such as 65536, 512KiB, 64MiB or 10GiB, got {ConfigText.Quote(text)}");
            return null;
        }

        if (value < min || value > max)
        {
            Error(s.KeyPath(key), $"must be from {ByteSizeText.Format(min)} to {ByteSizeText.Format(max)}, got {ByteSizeText.Format(value)}");
            return null;
        }

        return value;
    }
}

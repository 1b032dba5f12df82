using System.Net;
using Appliance.Configuration;
using static Appliance.Tests.Configuration.ConfigTestText;

namespace Appliance.Tests.Configuration;

public sealed partial class ConfigLoaderTests
{
    // The example from DESIGN.md, verbatim (including the "..." placeholders for the TLS pair).
    private const string DesignExample = """
        state_dir: /var/lib/appliance        # recordings, approvals, generated TLS material
        admin:
          listen: 127.0.0.1:8080             # HTTP API + web UI; reviewers authenticate with JWT too
        identity:
          issuers:
            - name: ci
              issuer: https://token.actions.githubusercontent.com
              audiences: [appliance]
              jwks_file: /etc/appliance/ci-jwks.json     # or jwks_uri:
        roles:                                # a principal gets every role whose claims all match
          - name: test
            claims: { repository: acme/shop, job_workflow_ref: "acme/shop/.github/workflows/ci.yml@*" }
          - name: deploy
            claims: { repository: acme/shop, ref: refs/heads/main, environment: production }
          - name: dba
            claims: { groups: dba }           # array claims match if any element matches
        targets:
          - name: orders                      # psql: dbname=orders
            kind: postgres
            listen: 0.0.0.0:5432              # several postgres targets may share a listener (routed by dbname)
            tls: { cert_file: ..., key_file: ... }      # absent: a self-signed pair in state_dir
            upstream: { host: db1, port: 5432, database: orders, user: gw_orders,
                        password_file: /etc/appliance/secrets/orders, tls: prefer }
            rules:
              - roles: [test]
                allow: [select]
                tables: ["public.*"]
              - roles: [deploy]
                allow: [select, insert, update, delete]
              - roles: [deploy]
                review: [ddl]                 # held until approved
                approvers: [dba]
                approvals: 1
                timeout: 15m
            masking:
              - columns: [public.customers.email, public.customers.card_number]
                strategy: redact              # redact | partial | hash
        """;

    private const string Minimal = """
        roles:
          - name: test
            claims: { repository: acme/shop }
        targets:
          - name: orders
            kind: postgres
            listen: 127.0.0.1:5432
            upstream: { host: db1, database: orders, user: gw }
        """;

    [Fact]
    public void LoadText_DesignExample_LoadsEveryValue()
    {
        var config = LoadValid(DesignExample);

        Assert.Equal("/var/lib/appliance", config.StateDir);
        Assert.Equal("127.0.0.1:8080", config.Admin?.Listen);

        var issuer = Assert.Single(config.Identity.Issuers);
        Assert.Equal("ci", issuer.Name);
        Assert.Equal("https://token.actions.githubusercontent.com", issuer.Issuer);
        Assert.Equal(["appliance"], issuer.Audiences);
        Assert.Equal("/etc/appliance/ci-jwks.json", issuer.JwksFile);
        Assert.Null(issuer.JwksUri);
        Assert.Equal(["RS256", "ES256"], issuer.Algorithms);

        Assert.Equal(["test", "deploy", "dba"], config.Roles.Select(r => r.Name));
        Assert.Equal("acme/shop/.github/workflows/ci.yml@*", config.Roles[0].Claims["job_workflow_ref"]);
        Assert.Equal(3, config.Roles[1].Claims.Count);
        Assert.Equal("production", config.Roles[1].Claims["environment"]);
        Assert.Equal("dba", config.Roles[2].Claims["groups"]);

        var target = Assert.Single(config.Targets);
        Assert.Equal(("orders", "postgres", "0.0.0.0:5432", 18), (target.Name, target.Kind, target.Listen, target.Line));
        Assert.Equal(Path.Combine(BaseDirectory, "..."), target.Tls?.CertFile);
        Assert.False(target.AllowInsecure);
        var upstream = target.Upstream;
        Assert.Equal(("db1", 5432, "orders", "gw_orders"), (upstream.Host, upstream.Port, upstream.Database, upstream.User));
        Assert.Equal("/etc/appliance/secrets/orders", upstream.PasswordFile);
        Assert.Equal(UpstreamTlsMode.Prefer, upstream.Tls);

        Assert.Equal([25, 28, 30], target.Rules.Select(r => r.Line));
        Assert.Equal(["select"], target.Rules[0].Allow);
        Assert.Equal(["public.*"], target.Rules[0].Tables);
        Assert.Equal(["select", "insert", "update", "delete"], target.Rules[1].Allow);
        var review = target.Rules[2];
        Assert.Equal(["ddl"], review.Review);
        Assert.Equal(["dba"], review.Approvers);
        Assert.Equal((1, TimeSpan.FromMinutes(15)), (review.Approvals, review.Timeout));
        Assert.Empty(review.Allow);

        var mask = Assert.Single(target.Masking);
        Assert.Equal(["public.customers.email", "public.customers.card_number"], mask.Columns);
        Assert.Equal(("redact", 36), (mask.Strategy, mask.Line));
    }

    [Fact]
    public void LoadFile_ExampleConfig_LoadsWithoutErrors()
    {
        var path = Path.Combine(RepositoryRoot(), "examples", "appliance.yaml");

        var result = ConfigLoader.LoadFile(path);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(Path.GetFullPath(path), result.Config.SourcePath);
        Assert.Equal(["orders", "orders_reporting"], result.Config.Targets.Select(t => t.Name));
        Assert.Equal(2, result.Config.Identity.Issuers.Count);
        Assert.Equal(UpstreamTlsMode.VerifyFull, result.Config.Targets[0].Upstream.Tls);
    }

    [Fact]
    public void LoadText_SectionsOmitted_UsesDefaults()
    {
        var config = LoadValid(Minimal);

        Assert.Equal("/var/lib/appliance", config.StateDir);
        Assert.Null(config.Admin);
        Assert.Empty(config.Identity.Issuers);
        Assert.Equal(TimeSpan.FromSeconds(30), config.Shutdown.DrainTimeout);
        Assert.Equal(64 * 1024 * 1024, config.Limits.MaxClientMessageBytes);
        var target = Assert.Single(config.Targets);
        Assert.Null(target.Tls);
        Assert.Equal((5432, UpstreamTlsMode.Prefer, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30)),
            (target.Upstream.Port, target.Upstream.Tls, target.Upstream.ConnectTimeout, target.Upstream.CatalogMaxAge));
        Assert.Empty(target.Rules);
    }

    [Fact]
    public void LoadText_DurationsInEveryField_AreParsed()
    {
        var config = LoadValid("""
            identity:
              issuers:
                - { name: ci, issuer: https://ci, audiences: [a], jwks_uri: "https://ci/keys",
                    clock_skew: 500ms, jwks_refresh_interval: 1h30m }
            shutdown: { drain_timeout: 15m }
            limits: { login_timeout: 1h, max_sessions: 7, max_client_message_bytes: 1024, max_startup_packet_bytes: 512 }
            """);

        var issuer = config.Identity.Issuers[0];
        Assert.Equal(TimeSpan.FromMilliseconds(500), issuer.ClockSkew);
        Assert.Equal(TimeSpan.FromMinutes(90), issuer.JwksRefreshInterval);
        Assert.Equal("https://ci/keys", issuer.JwksUri);
        Assert.Equal(TimeSpan.FromMinutes(15), config.Shutdown.DrainTimeout);
        Assert.Equal((TimeSpan.FromHours(1), 7, 1024, 512),
            (config.Limits.LoginTimeout, config.Limits.MaxSessions, config.Limits.MaxClientMessageBytes, config.Limits.MaxStartupPacketBytes));
    }

    [Fact]
    public void LoadText_CatalogMaxAge_ParsedAndZeroRefused()
    {
        var config = LoadValid("""
            targets:
              - { name: orders, kind: postgres, listen: "127.0.0.1:6432", upstream: { host: db, database: orders, user: gw, catalog_max_age: 2m } }
            """);
        Assert.Equal(TimeSpan.FromMinutes(2), config.Targets[0].Upstream.CatalogMaxAge);
        SingleError("""
            targets:
              - name: orders
                kind: postgres
                listen: "127.0.0.1:6432"
                upstream: { host: db, database: orders, user: gw, catalog_max_age: 0s }
            """, 5, 72, "targets[0].upstream.catalog_max_age", "must be longer than 0s");
    }

    [Fact]
    public void LoadText_TrustedFunctions_SchemaQualifiedWithALiteralSchema()
    {
        var config = LoadValid("""
            targets:
              - { name: orders, kind: postgres, listen: "127.0.0.1:6432", upstream: { host: db, database: orders, user: gw }, trusted_functions: [public.uuid_generate_v4, postgis.st_*] }
            """);
        Assert.Equal(["public.uuid_generate_v4", "postgis.st_*"], config.Targets[0].TrustedFunctions);
        foreach (var bad in new[] { "uuid_generate_v4", "*.st_distance", "public.", "a.b.c", "public.f(int)" })
        {
            SingleError($$"""
                targets:
                  - name: orders
                    kind: postgres
                    listen: "127.0.0.1:6432"
                    upstream: { host: db, database: orders, user: gw }
                    trusted_functions: [public.ok, "{{bad}}"]
                """, 6, 36, "targets[0].trusted_functions[1]", $"expected a function name with its schema, the name part may be a glob (such as public.uuid_generate_v4 or postgis.st_*), got '{bad}'");
        }
    }

    [Fact]
    public void LoadText_Ipv6Listen_IsAccepted()
    {
        var config = LoadValid("""
            admin: { listen: "[::1]:8080" }
            targets:
              - name: orders
                kind: postgres
                listen: "[::]:6432"
                upstream: { host: "::1", database: orders, user: gw }
            """);

        Assert.Equal("[::]:6432", config.Targets[0].Listen);
        Assert.True(ListenEndpoint.TryParse(config.Targets[0].Listen, out var endpoint, out _));
        Assert.Equal(new IPEndPoint(IPAddress.IPv6Any, 6432), endpoint);
    }

    [Fact]
    public void LoadText_TargetsSharingListener_Load()
    {
        var config = LoadValid("""
            targets:
              - { name: orders, kind: postgres, listen: "0.0.0.0:5432", upstream: { host: db1, database: orders, user: gw } }
              - { name: billing, kind: postgres, listen: "0.0.0.0:5432", upstream: { host: db2, database: billing, user: gw } }
            """);

        Assert.Equal(2, config.Targets.Count);
    }

    [Fact]
    public void LoadText_RelativePaths_ResolveAgainstBaseDirectory()
    {
        var config = LoadValid("""
            state_dir: state
            identity:
              issuers:
                - { name: ci, issuer: https://ci, audiences: [a], jwks_file: keys/jwks.json }
            targets:
              - name: orders
                kind: postgres
                listen: localhost:5432
                tls: { cert_file: tls/gw.crt, key_file: /abs/gw.key }
                upstream: { host: db1, database: orders, user: gw, password_file: ../secrets/orders,
                            tls: verify-full, ca_file: ./ca.pem }
            """);

        Assert.Equal(Path.Combine(BaseDirectory, "state"), config.StateDir);
        Assert.Equal(Path.Combine(BaseDirectory, "keys", "jwks.json"), config.Identity.Issuers[0].JwksFile);
        Assert.Equal(Path.Combine(BaseDirectory, "tls", "gw.crt"), config.Targets[0].Tls?.CertFile);
        Assert.Equal("/abs/gw.key", config.Targets[0].Tls?.KeyFile);
        Assert.Equal(Path.Combine(Path.GetDirectoryName(BaseDirectory)!, "secrets", "orders"), config.Targets[0].Upstream.PasswordFile);
        Assert.Equal(Path.Combine(BaseDirectory, "ca.pem"), config.Targets[0].Upstream.CaFile);
    }

    [Fact]
    public void LoadFile_RelativePaths_ResolveAgainstConfigDirectory()
    {
        using var dir = new TempDirectory();
        var path = dir.Write("conf/appliance.yaml", """
            identity:
              issuers:
                - { name: ci, issuer: https://ci, audiences: [a], jwks_file: jwks.json }
            """);

        var result = ConfigLoader.LoadFile(path);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(Path.Combine(dir.Path, "conf", "jwks.json"), result.Config.Identity.Issuers[0].JwksFile);
    }

    [Fact]
    public void LoadFile_MissingFile_ReportsOneErrorWithoutPosition()
    {
        var result = ConfigLoader.LoadFile("/nonexistent/appliance.yaml");

        var error = Assert.Single(result.Errors);
        Assert.Equal((0, ""), (error.Line, error.Key));
        Assert.StartsWith("/nonexistent/appliance.yaml: cannot read the configuration", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void LoadText_Positions_RecordedForValues()
    {
        var config = LoadValid(DesignExample);

        Assert.Equal(new ConfigPosition(22, 34), config.Positions["targets[0].upstream.port"]);
        Assert.Equal(new ConfigPosition(18, 5), config.Positions["targets[0]"]);
        Assert.Equal(new ConfigPosition(26, 17), config.Positions["targets[0].rules[0].allow[0]"]);
    }

    [Fact]
    public void CheckReferencedFiles_MissingFiles_ReportedWithPositions()
    {
        using var dir = new TempDirectory();
        dir.Write("jwks.json", "{}");
        dir.Write("tls/gw.crt", "cert");
        Directory.CreateDirectory(Path.Combine(dir.Path, "secrets"));
        var path = dir.Write("appliance.yaml", """
            identity:
              issuers:
                - { name: ci, issuer: https://ci, audiences: [a], jwks_file: jwks.json }
            targets:
              - name: orders
                kind: postgres
                listen: localhost:5432
                tls:
                  cert_file: tls/gw.crt
                  key_file: tls/gw.key
                upstream:
                  host: db1
                  database: orders
                  user: gw
                  password_file: secrets
            """);
        var config = ConfigLoader.LoadFile(path).Config!;

        var errors = ConfigLoader.CheckReferencedFiles(config, path);

        Assert.Equal(2, errors.Count);
        Assert.Equal((10, 17, "targets[0].tls.key_file"), (errors[0].Line, errors[0].Column, errors[0].Key));
        Assert.Contains("file not found", errors[0].Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(dir.Path, "tls", "gw.key"), errors[0].Message, StringComparison.Ordinal);
        Assert.Equal((15, 22, "targets[0].upstream.password_file"), (errors[1].Line, errors[1].Column, errors[1].Key));
        Assert.Contains("is a directory", errors[1].Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckReferencedFiles_AllPresent_NoErrors()
    {
        using var dir = new TempDirectory();
        dir.Write("jwks.json", "{}");
        var path = dir.Write("appliance.yaml", """
            identity:
              issuers:
                - { name: ci, issuer: https://ci, audiences: [a], jwks_file: jwks.json }
            """);
        var config = ConfigLoader.LoadFile(path).Config!;

        Assert.Empty(ConfigLoader.CheckReferencedFiles(config, path));
    }

    [Fact]
    public void CheckReferencedFiles_RelativePathInCodeBuiltConfig_ResolvesAgainstConfigDirectory()
    {
        using var dir = new TempDirectory();
        var config = new ApplianceConfig();
        config.Identity.Issuers.Add(new IssuerConfig { Name = "ci", JwksFile = "missing.json" });

        var error = Assert.Single(ConfigLoader.CheckReferencedFiles(config, Path.Combine(dir.Path, "appliance.yaml")));

        Assert.Equal((0, "identity.issuers[0].jwks_file"), (error.Line, error.Key));
        Assert.Contains(Path.Combine(dir.Path, "missing.json"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigError_ToString_IsFileLineColumnKeyMessage()
    {
        var error = new ConfigError("a.yaml", 3, 7, "targets[0].upstream.port", "expected an integer, got 'abc'");

        Assert.Equal("a.yaml:3:7: targets[0].upstream.port: expected an integer, got 'abc'", error.ToString());
        Assert.Equal("a.yaml:1:1: invalid YAML", (error with { Line = 1, Column = 1, Key = "", Message = "invalid YAML" }).ToString());
    }
}

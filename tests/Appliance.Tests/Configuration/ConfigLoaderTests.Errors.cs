using static Appliance.Tests.Configuration.ConfigTestText;

namespace Appliance.Tests.Configuration;

// Syntax, structure and type errors: each reports the right line, column and key path.
public sealed partial class ConfigLoaderTests
{
    [Fact]
    public void LoadText_UnknownKey_ReportsKeyAndExpectedKeys()
    {
        var error = SingleError("""
            targets:
              - name: orders
                kind: postgres
                listen: 127.0.0.1:5432
                upstream:
                  host: db1
                  prot: 5432
                  database: orders
                  user: gw
            """, 7, 7, "targets[0].upstream.prot", "unknown key 'prot'; expected one of: host, port, database, user,");

        Assert.Equal(
            "test.yaml:7:7: targets[0].upstream.prot: unknown key 'prot'; expected one of: host, port, database, user, "
                + "password_file, tls, ca_file, connect_timeout, catalog_max_age",
            error.ToString());
    }

    [Fact]
    public void LoadText_UnknownTopLevelKey_ReportsIt()
    {
        SingleError("""
            state_dir: /tmp/x
            polices: []
            """, 2, 1, "polices", "unknown key 'polices'; expected one of: state_dir, admin, identity, roles, targets");
    }

    [Fact]
    public void LoadText_DuplicateKey_ReportsSecondOccurrenceWithFirstLine()
    {
        SingleError("""
            roles:
              - name: test
                claims:
                  repository: acme/shop
                  repository: acme/other
            """, 5, 7, "roles[0].claims.repository", "duplicate key 'repository' (first at line 4)");
    }

    [Fact]
    public void LoadText_DuplicateTopLevelKey_ReportsIt()
    {
        SingleError("""
            state_dir: /a
            admin: { listen: "127.0.0.1:8080" }
            state_dir: /b
            """, 3, 1, "state_dir", "duplicate key 'state_dir' (first at line 1)");
    }

    [Fact]
    public void LoadText_ScalarWhereListExpected_ReportsExpectedList()
    {
        SingleError("""
            identity:
              issuers:
                - name: ci
                  issuer: https://ci
                  audiences: appliance
                  jwks_uri: https://ci/keys
            """, 5, 18, "identity.issuers[0].audiences", "expected a list, got 'appliance'");
    }

    [Fact]
    public void LoadText_NonNumericPort_ReportsExpectedInteger()
    {
        SingleError("""
            targets:
              - name: orders
                kind: postgres
                listen: 127.0.0.1:5432
                upstream: { host: db1, port: abc, database: orders, user: gw }
            """, 5, 34, "targets[0].upstream.port", "expected an integer, got 'abc'");
    }

    [Fact]
    public void LoadText_HugeInteger_ReportsTooLarge()
    {
        SingleError("""
            limits:
              max_sessions: 99999999999
            """, 2, 17, "limits.max_sessions", "'99999999999' is too large for an integer");
    }

    [Fact]
    public void LoadText_YesForBoolean_ReportsExpectedTrueOrFalse()
    {
        SingleError("""
            targets:
              - name: orders
                kind: postgres
                listen: 127.0.0.1:5432
                allow_insecure: yes
                upstream: { host: db1, database: orders, user: gw }
            """, 5, 21, "targets[0].allow_insecure", "expected true or false, got 'yes'");
    }

    [Fact]
    public void LoadText_ScalarWhereMappingExpected_ReportsExpectedMapping()
    {
        SingleError("""
            targets:
              - name: orders
                kind: postgres
                listen: 127.0.0.1:5432
                upstream: db1:5432
            """, 5, 15, "targets[0].upstream", "expected a mapping, got 'db1:5432'");
    }

    [Fact]
    public void LoadText_ListItemOfWrongType_ReportsItemPath()
    {
        SingleError("""
            roles:
              - name: test
                claims: { repository: acme/shop }
            targets:
              - name: orders
                kind: postgres
                listen: 127.0.0.1:5432
                upstream: { host: db1, database: orders, user: gw }
                rules:
                  - roles: [test, [nested]]
                    allow: [select]
            """, 10, 23, "targets[0].rules[0].roles[1]", "expected a string, got a list");
    }

    [Fact]
    public void LoadText_MissingRequiredKey_ReportsAtParentMapping()
    {
        SingleError("""
            targets:
              - name: orders
                kind: postgres
                listen: 127.0.0.1:5432
                upstream:
                  database: orders
                  user: gw
            """, 6, 7, "targets[0].upstream.host", "is required");
    }

    [Fact]
    public void LoadText_RequiredKeyWithoutValue_ReportsAtKey()
    {
        SingleError("""
            targets:
              - name: orders
                kind: postgres
                listen: 127.0.0.1:5432
                upstream:
                  host:
                  database: orders
                  user: gw
            """, 6, 7, "targets[0].upstream.host", "is required");
    }

    [Fact]
    public void LoadText_RequiredSectionMissing_ReportsAtItem()
    {
        SingleError("""
            targets:
              - name: orders
                kind: postgres
                listen: 127.0.0.1:5432
            """, 2, 5, "targets[0].upstream", "is required");
    }

    [Fact]
    public void LoadText_BadDuration_ReportsExpectedDuration()
    {
        SingleError("""
            shutdown:
              drain_timeout: 30 seconds
            """, 2, 18, "shutdown.drain_timeout", "expected a duration such as 30s, 15m, 1h30m or 500ms, got '30 seconds'");
    }

    [Fact]
    public void LoadText_AdminMetricsNotABoolean_NamesTheKey()
    {
        SingleError("""
            admin:
              listen: 127.0.0.1:8080
              metrics: yes please
            """, 3, 12, "admin.metrics", "expected true or false, got 'yes please'");
    }

    [Fact]
    public void LoadText_InvalidYaml_ReportsPositionWithoutKey()
    {
        var result = Load("""
            admin:
              listen: [127.0.0.1:8080
            state_dir: /x
            """);

        // YamlDotNet gives up without a position here; the last good event is the unclosed '['.
        var error = Assert.Single(result.Errors);
        Assert.Equal((2, 11, ""), (error.Line, error.Column, error.Key));
        Assert.StartsWith("invalid YAML", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadText_BadIndentation_ReportsInvalidYaml()
    {
        var result = Load("""
            admin:
              listen: 127.0.0.1:8080
             state_dir: /x
            """);

        var error = Assert.Single(result.Errors);
        Assert.Equal((3, 2, ""), (error.Line, error.Column, error.Key));
        Assert.Equal("invalid YAML: While parsing a block mapping, did not find expected key.", error.Message);
    }

    [Fact]
    public void LoadText_EmptyText_ReportsEmptyFile()
    {
        SingleError("# only a comment\n", 1, 1, "", "the file is empty");
    }

    [Fact]
    public void LoadText_RootIsList_ReportsExpectedMapping()
    {
        SingleError("- a\n- b\n", 1, 1, "", "expected a mapping, got a list");
    }

    [Fact]
    public void LoadText_TwoDocuments_ReportsSecond()
    {
        SingleError("state_dir: /a\n---\nstate_dir: /b\n", 2, 1, "", "expected a single YAML document");
    }

    [Fact]
    public void LoadText_UnknownAlias_ReportsIt()
    {
        SingleError("state_dir: *dir\n", 1, 12, "", "unknown alias '*dir'");
    }

    [Fact]
    public void LoadText_AnchorAndAlias_Resolve()
    {
        var config = LoadValid("""
            roles:
              - name: test
                claims: &shop { repository: acme/shop }
              - name: deploy
                claims: *shop
            """);

        Assert.Equal("acme/shop", config.Roles[1].Claims["repository"]);
    }

    [Fact]
    public void LoadText_DeepNesting_ReportsInsteadOfOverflowing()
    {
        var result = Load("state_dir: " + new string('[', 10_000) + new string(']', 10_000) + "\n");

        var error = Assert.Single(result.Errors);
        Assert.Contains("nested deeper than", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadText_ManyProblems_AllReportedInFileOrder()
    {
        var result = Load("""
            state_dir: ""
            admin: { listen: "127.0.0.1" }
            roles:
              - name: test
                claims: {}
            targets:
              - name: orders
                kind: ssh
                listen: 127.0.0.1:5432
                upstream: { host: db1, port: 0, database: orders, user: gw, tls: maybe }
                rules:
                  - roles: [tester]
                    allow: [selct]
            shutdown: { drain_timeout: soon, extra: 1 }
            """);

        Assert.Equal(
            [
                (1, 12, "state_dir"),
                (2, 18, "admin.listen"),
                (5, 13, "roles[0].claims"),
                (8, 11, "targets[0].kind"),
                (10, 34, "targets[0].upstream.port"),
                (10, 70, "targets[0].upstream.tls"),
                (12, 17, "targets[0].rules[0].roles[0]"),
                (13, 17, "targets[0].rules[0].allow[0]"),
                (14, 28, "shutdown.drain_timeout"),
                (14, 34, "shutdown.extra"),
            ],
            result.Errors.Select(e => (e.Line, e.Column, e.Key)));
    }
}

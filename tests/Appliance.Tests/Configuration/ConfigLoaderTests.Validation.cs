using static Appliance.Tests.Configuration.ConfigTestText;

namespace Appliance.Tests.Configuration;

// Semantic validation: each rule reports the right line, column and key path.
public sealed partial class ConfigLoaderTests
{
    // Two lines of roles; targets: is line 3, rules: line 8, so the first rule or masking entry is line 9.
    private const string RolesPrefix = """
        roles: [{ name: test, claims: { repository: acme/shop } }, { name: dba, claims: { groups: dba } },
                { name: deploy, claims: { ref: refs/heads/main } }]

        """;

    private static string WithTarget(string rules) => RolesPrefix + """
        targets:
          - name: orders
            kind: postgres
            listen: 127.0.0.1:5432
            upstream: { host: db1, database: orders, user: gw }

        """ + rules;

    // ---- identity ----

    [Fact]
    public void LoadText_DuplicateIssuerName_ReportsSecond()
    {
        SingleError("""
            identity:
              issuers:
                - { name: ci, issuer: https://a, audiences: [x], jwks_uri: "https://a/k" }
                - { name: ci, issuer: https://b, audiences: [x], jwks_uri: "https://b/k" }
            """, 4, 15, "identity.issuers[1].name", "duplicate issuer name 'ci' (first at line 3)");
    }

    [Fact]
    public void LoadText_SameIssuerUrlTwice_ReportsSecond()
    {
        SingleError("""
            identity:
              issuers:
                - { name: a, issuer: https://ci, audiences: [x], jwks_uri: "https://ci/k" }
                - { name: b, issuer: https://ci, audiences: [y], jwks_uri: "https://ci/k" }
            """, 4, 26, "identity.issuers[1].issuer", "is already configured as 'a' (line 3)");
    }

    [Fact]
    public void LoadText_IssuerUrlMissing_ReportsRequired()
    {
        SingleError("""
            identity:
              issuers:
                - name: ci
                  audiences: [x]
                  jwks_file: /k.json
            """, 3, 7, "identity.issuers[0].issuer", "is required");
    }

    [Fact]
    public void LoadText_BothJwksFileAndUri_ReportsAtUri()
    {
        SingleError("""
            identity:
              issuers:
                - name: ci
                  issuer: https://ci
                  audiences: [x]
                  jwks_file: /k.json
                  jwks_uri: https://ci/keys
            """, 7, 17, "identity.issuers[0].jwks_uri", "set either jwks_file or jwks_uri, not both");
    }

    [Fact]
    public void LoadText_NeitherJwksFileNorUri_ReportsAtIssuer()
    {
        SingleError("""
            identity:
              issuers:
                - name: ci
                  issuer: https://ci
                  audiences: [x]
            """, 3, 7, "identity.issuers[0]", "needs jwks_file or jwks_uri");
    }

    [Fact]
    public void LoadText_JwksUriNotHttp_Reported()
    {
        SingleError("""
            identity:
              issuers:
                - { name: ci, issuer: https://ci, audiences: [x], jwks_uri: "file:///etc/k" }
            """, 3, 65, "identity.issuers[0].jwks_uri", "expected an absolute https:// URL");
    }

    [Fact]
    public void LoadText_EmptyAudiences_ReportsMustNotBeEmpty()
    {
        SingleError("""
            identity:
              issuers:
                - name: ci
                  issuer: https://ci
                  audiences: []
                  jwks_file: /k.json
            """, 5, 18, "identity.issuers[0].audiences", "must not be empty");
    }

    [Theory]
    [InlineData("HS256", "is rejected: HMAC uses a shared secret")]
    [InlineData("none", "is rejected: it accepts unsigned tokens")]
    [InlineData("EdDSA", "unknown algorithm 'EdDSA'; expected one of: RS256, RS384, RS512, PS256")]
    [InlineData("rs256", "unknown algorithm 'rs256'")]
    public void LoadText_DisallowedAlgorithm_ReportsReason(string algorithm, string message)
    {
        SingleError($"""
            identity:
              issuers:
                - name: ci
                  issuer: https://ci
                  audiences: [x]
                  jwks_file: /k.json
                  algorithms: [ES256, {algorithm}]
            """, 7, 27, "identity.issuers[0].algorithms[1]", message);
    }

    [Fact]
    public void LoadText_AllAsymmetricAlgorithms_Accepted()
    {
        var config = LoadValid("""
            identity:
              issuers:
                - name: ci
                  issuer: https://ci
                  audiences: [x]
                  jwks_file: /k.json
                  algorithms: [RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512]
            """);

        Assert.Equal(9, config.Identity.Issuers[0].Algorithms.Count);
    }

    // ---- roles ----

    [Fact]
    public void LoadText_DuplicateRoleName_ReportsSecond()
    {
        SingleError("""
            roles:
              - name: test
                claims: { repository: acme/shop }
              - name: test
                claims: { repository: acme/other }
            """, 4, 11, "roles[1].name", "duplicate role name 'test' (first at line 2)");
    }

    [Fact]
    public void LoadText_RoleWithoutClaims_ReportsRequired()
    {
        SingleError("""
            roles:
              - name: test
            """, 2, 5, "roles[0].claims", "is required");
    }

    [Fact]
    public void LoadText_ClaimWithoutValue_ReportsIt()
    {
        SingleError("""
            roles:
              - name: test
                claims:
                  groups:
            """, 4, 7, "roles[0].claims.groups", "expected a claim pattern, got nothing");
    }

    [Fact]
    public void LoadText_RoleNameWithSpace_Reported()
    {
        SingleError("""
            roles:
              - name: "data team"
                claims: { groups: data }
            """, 2, 11, "roles[0].name", "role name 'data team' must start with a letter or digit");
    }

    // ---- targets ----

    [Fact]
    public void LoadText_DuplicateTargetNameOnOneListener_ReportsListener()
    {
        SingleError("""
            targets:
              - { name: orders, kind: postgres, listen: "0.0.0.0:5432", upstream: { host: db1, database: orders, user: gw } }
              - { name: orders, kind: postgres, listen: "0.0.0.0:5432", upstream: { host: db2, database: orders, user: gw } }
            """, 3, 13, "targets[1].name", "target 'orders' is defined twice on listener 0.0.0.0:5432 (first at line 2)");
    }

    [Fact]
    public void LoadText_DuplicateTargetNameOnDifferentListeners_ReportsDuplicate()
    {
        SingleError("""
            targets:
              - { name: orders, kind: postgres, listen: "0.0.0.0:5432", upstream: { host: db1, database: orders, user: gw } }
              - { name: orders, kind: postgres, listen: "0.0.0.0:6432", upstream: { host: db2, database: orders, user: gw } }
            """, 3, 13, "targets[1].name", "duplicate target name 'orders' (first at line 2)");
    }

    [Theory]
    [InlineData("ssh", "kind 'ssh' is not supported yet")]
    [InlineData("kubernetes", "kind 'kubernetes' is not supported yet")]
    [InlineData("mysql", "unknown kind 'mysql'; expected one of: postgres")]
    public void LoadText_UnsupportedKind_Reported(string kind, string message)
    {
        SingleError($"""
            targets:
              - name: orders
                kind: {kind}
                listen: 127.0.0.1:5432
                upstream: {"{"} host: db1, database: orders, user: gw {"}"}
            """, 3, 11, "targets[0].kind", message);
    }

    [Theory]
    [InlineData("127.0.0.1", "missing port")]
    [InlineData("127.0.0.1:0", "port must be a number from 1 to 65535, got '0'")]
    [InlineData("127.0.0.1:65536", "port must be a number from 1 to 65535, got '65536'")]
    [InlineData("db.example.com:5432", "host must be an IPv4 address, [IPv6] address or localhost")]
    [InlineData("::1:5432", "IPv6 addresses need brackets")]
    public void LoadText_BadListen_Reported(string listen, string message)
    {
        SingleError($"""
            targets:
              - name: orders
                kind: postgres
                listen: "{listen}"
                upstream: {"{"} host: db1, database: orders, user: gw {"}"}
            """, 4, 13, "targets[0].listen", message);
    }

    [Fact]
    public void LoadText_UpstreamPortOutOfRange_Reported()
    {
        SingleError("""
            targets:
              - name: orders
                kind: postgres
                listen: 127.0.0.1:5432
                upstream: { host: db1, port: 70000, database: orders, user: gw }
            """, 5, 34, "targets[0].upstream.port", "must be from 1 to 65535, got 70000");
    }

    [Fact]
    public void LoadText_UpstreamTlsModeUnknown_Reported()
    {
        SingleError("""
            targets:
              - name: orders
                kind: postgres
                listen: 127.0.0.1:5432
                upstream:
                  host: db1
                  database: orders
                  user: gw
                  tls: verify-ca
            """, 9, 12, "targets[0].upstream.tls", "expected one of: disable, prefer, require, verify-full, got 'verify-ca'");
    }

    [Fact]
    public void LoadText_CaFileWithoutVerifyFull_Reported()
    {
        SingleError("""
            targets:
              - name: orders
                kind: postgres
                listen: 127.0.0.1:5432
                upstream:
                  host: db1
                  database: orders
                  user: gw
                  ca_file: /etc/ca.pem
            """, 9, 16, "targets[0].upstream.ca_file", "is used only with tls: verify-full");
    }

    [Fact]
    public void LoadText_UpstreamDatabaseAndUserMissing_ReportsBoth()
    {
        var result = Load("""
            targets:
              - name: orders
                kind: postgres
                listen: 127.0.0.1:5432
                upstream: { host: db1 }
            """);

        Assert.Equal(2, result.Errors.Count);
        AssertError(result.Errors[0], 5, 15, "targets[0].upstream.database", "is required");
        AssertError(result.Errors[1], 5, 15, "targets[0].upstream.user", "is required");
    }

    [Fact]
    public void LoadText_TlsCertWithoutKey_ReportsKeyRequired()
    {
        SingleError("""
            targets:
              - name: orders
                kind: postgres
                listen: 127.0.0.1:5432
                tls:
                  cert_file: /etc/gw.crt
                upstream: { host: db1, database: orders, user: gw }
            """, 6, 7, "targets[0].tls.key_file", "is required when cert_file is set; give both or neither");
    }

    [Fact]
    public void LoadText_SharedListenerWithDifferentTls_Reported()
    {
        SingleError("""
            targets:
              - { name: orders, kind: postgres, listen: "0.0.0.0:5432", upstream: { host: db1, database: orders, user: gw } }
              - name: billing
                kind: postgres
                listen: 0.0.0.0:5432
                tls: { cert_file: /a.crt, key_file: /a.key }
                upstream: { host: db1, database: billing, user: gw }
            """, 6, 10, "targets[1].tls", "targets sharing listener 0.0.0.0:5432 must have the same tls settings; target 'orders' (line 2)");
    }

    [Fact]
    public void LoadText_WildcardAndSpecificAddressOnOnePort_Reported()
    {
        SingleError("""
            targets:
              - { name: orders, kind: postgres, listen: "0.0.0.0:5432", upstream: { host: db1, database: orders, user: gw } }
              - { name: billing, kind: postgres, listen: "127.0.0.1:5432", upstream: { host: db1, database: billing, user: gw } }
            """, 3, 46, "targets[1].listen", "listener 127.0.0.1:5432 overlaps 0.0.0.0:5432 of target 'orders' (line 2)");
    }

    [Fact]
    public void LoadText_AdminOnTargetListener_Reported()
    {
        SingleError("""
            admin: { listen: "127.0.0.1:5432" }
            targets:
              - { name: orders, kind: postgres, listen: "127.0.0.1:5432", upstream: { host: db1, database: orders, user: gw } }
            """, 1, 18, "admin.listen", "admin listener 127.0.0.1:5432 conflicts with 127.0.0.1:5432 of target 'orders' (line 3)");
    }

    // ---- rules ----

    [Fact]
    public void LoadText_RuleWithUndefinedRole_ReportsRole()
    {
        SingleError(WithTarget("""
                rules:
                  - roles: [test, ops]
                    allow: [select]
            """), 9, 23, "targets[0].rules[0].roles[1]", "role 'ops' is not defined in roles");
    }

    [Fact]
    public void LoadText_RuleWithAnyRole_Accepted()
    {
        var config = LoadValid(WithTarget("""
                rules:
                  - roles: ["*"]
                    deny: [all]
            """));

        Assert.Equal(["all"], config.Targets[0].Rules[0].Deny);
        Assert.Equal(9, config.Targets[0].Rules[0].Line);
    }

    [Fact]
    public void LoadText_RuleWithEmptyRoles_ReportsMustNotBeEmpty()
    {
        SingleError(WithTarget("""
                rules:
                  - roles: []
                    allow: [select]
            """), 9, 16, "targets[0].rules[0].roles", "must not be empty");
    }

    [Fact]
    public void LoadText_RuleWithoutAction_ReportsAtRule()
    {
        SingleError(WithTarget("""
                rules:
                  - roles: [test]
                    tables: [public.orders]
            """), 9, 9, "targets[0].rules[0]", "needs one of allow, deny or review");
    }

    [Fact]
    public void LoadText_RuleWithTwoActions_ReportsSecond()
    {
        SingleError(WithTarget("""
                rules:
                  - roles: [test]
                    allow: [select]
                    deny: [delete]
            """), 11, 15, "targets[0].rules[0].deny", "a rule takes exactly one of allow, deny or review; this one also has allow");
    }

    [Fact]
    public void LoadText_RuleWithUnknownStatementClass_ReportsClass()
    {
        SingleError(WithTarget("""
                rules:
                  - roles: [test]
                    allow: [select, truncate]
            """), 10, 25, "targets[0].rules[0].allow[1]", "unknown statement class 'truncate'; expected one of: select, insert");
    }

    [Fact]
    public void LoadText_ReviewWithZeroApprovals_Reported()
    {
        SingleError(WithTarget("""
                rules:
                  - roles: [deploy]
                    review: [ddl]
                    approvers: [dba]
                    approvals: 0
            """), 12, 20, "targets[0].rules[0].approvals", "must be at least 1, got 0");
    }

    [Fact]
    public void LoadText_ReviewWithUndefinedApprover_Reported()
    {
        SingleError(WithTarget("""
                rules:
                  - roles: [deploy]
                    review: [ddl]
                    approvers: [dba, "*"]
            """), 11, 26, "targets[0].rules[0].approvers[1]", "role '*' is not defined in roles");
    }

    [Fact]
    public void LoadText_ReviewWithoutApprovers_ReportsRequired()
    {
        SingleError(WithTarget("""
                rules:
                  - roles: [deploy]
                    review: [ddl]
            """), 9, 9, "targets[0].rules[0].approvers", "is required");
    }

    [Fact]
    public void LoadText_ApproversOnAllowRule_Reported()
    {
        SingleError(WithTarget("""
                rules:
                  - roles: [deploy]
                    allow: [ddl]
                    approvers: [dba]
            """), 11, 20, "targets[0].rules[0].approvers", "applies only to review rules");
    }

    [Fact]
    public void LoadText_ZeroReviewTimeout_Reported()
    {
        SingleError(WithTarget("""
                rules:
                  - roles: [deploy]
                    review: [ddl]
                    approvers: [dba]
                    timeout: 0s
            """), 12, 18, "targets[0].rules[0].timeout", "must be longer than 0s");
    }

    [Fact]
    public void LoadText_UnqualifiedTablePattern_Reported()
    {
        SingleError(WithTarget("""
                rules:
                  - roles: [test]
                    allow: [select]
                    tables: [orders]
            """), 11, 18, "targets[0].rules[0].tables[0]", "expected schema.table");
    }

    // ---- masking ----

    [Fact]
    public void LoadText_MaskingStrategyUnknown_Reported()
    {
        SingleError(WithTarget("""
                masking:
                  - columns: [public.customers.email]
                    strategy: scramble
            """), 10, 19, "targets[0].masking[0].strategy", "expected one of: redact, partial, hash, got 'scramble'");
    }

    [Fact]
    public void LoadText_MaskingColumnNotQualified_Reported()
    {
        SingleError(WithTarget("""
                masking:
                  - columns: [public.customers.email, customers.email]
                    strategy: hash
            """), 9, 43, "targets[0].masking[0].columns[1]", "expected schema.table.column, got 'customers.email'");
    }

    [Fact]
    public void LoadText_MaskingKeepWithRedact_Reported()
    {
        SingleError(WithTarget("""
                masking:
                  - columns: [public.customers.email]
                    keep: 2
            """), 10, 15, "targets[0].masking[0].keep", "applies only to strategy: partial");
    }

    [Fact]
    public void LoadText_MaskingPartialWithRoles_Loads()
    {
        var config = LoadValid(WithTarget("""
                masking:
                  - columns: [public.customers.phone]
                    strategy: partial
                    keep: 2
                    roles: ["*"]
                    exempt_roles: [dba]
            """));

        var mask = config.Targets[0].Masking[0];
        Assert.Equal(("partial", 2, 9), (mask.Strategy, mask.Keep, mask.Line));
        Assert.Equal(["dba"], mask.ExemptRoles);
    }

    [Fact]
    public void LoadText_MaskingScopeWithoutHash_Reported()
    {
        SingleError(WithTarget("""
                masking:
                  - columns: [public.customers.email]
                    scope: global
            """), 10, 16, "targets[0].masking[0].scope", "applies only to strategy: hash");
    }

    [Fact]
    public void LoadText_MaskingUnsupportedTypesUnknown_Reported()
    {
        SingleError(WithTarget("""
                masking:
                  - columns: [public.customers.email]
                    unsupported_types: zero
            """), 10, 28, "targets[0].masking[0].unsupported_types", "expected one of: null, refuse, got 'zero'");
    }

    [Fact]
    public void LoadText_MaskingHashScopeAndRefuse_Load()
    {
        var config = LoadValid(WithTarget("""
                masking:
                  - columns: [public.customers.email]
                    strategy: hash
                    scope: session
                    unsupported_types: refuse
            """));
        var mask = config.Targets[0].Masking[0];
        Assert.Equal(("session", "refuse"), (mask.Scope, mask.UnsupportedTypes));
    }

    [Fact]
    public void LoadText_MaskingExemptUndefinedRole_Reported()
    {
        SingleError(WithTarget("""
                masking:
                  - columns: [public.customers.email]
                    exempt_roles: [auditors]
            """), 10, 24, "targets[0].masking[0].exempt_roles[0]", "role 'auditors' is not defined in roles");
    }

    // ---- limits ----

    [Fact]
    public void LoadText_ZeroLimit_Reported()
    {
        SingleError("""
            limits:
              max_startup_packet_bytes: 0
            """, 2, 29, "limits.max_startup_packet_bytes", "must be at least 1, got 0");
    }
}

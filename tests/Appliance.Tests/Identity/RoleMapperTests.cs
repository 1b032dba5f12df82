using Appliance.Configuration;
using Appliance.Identity;

namespace Appliance.Tests.Identity;

public sealed class RoleMapperTests
{
    private static readonly RoleMapper s_designRoles = new(
    [
        new RoleConfig { Name = "test", Claims = { ["repository"] = "acme/shop", ["job_workflow_ref"] = "acme/shop/.github/workflows/ci.yml@*" } },
        new RoleConfig { Name = "deploy", Claims = { ["repository"] = "acme/shop", ["ref"] = "refs/heads/main", ["environment"] = "production" } },
        new RoleConfig { Name = "dba", Claims = { ["groups"] = "dba" } },
        new RoleConfig { Name = "acme-any", Claims = { ["sub"] = "repo:acme/*" } },
    ]);

    [Fact]
    public void Map_AllExactClaimsMatch_GrantsRole()
    {
        var roles = s_designRoles.Map(Claims(("repository", ["acme/shop"]), ("ref", ["refs/heads/main"]), ("environment", ["production"])));

        Assert.Equal(["deploy"], roles);
    }

    [Fact]
    public void Map_ExactMatchIsCaseSensitive_NoRole()
    {
        var roles = s_designRoles.Map(Claims(("groups", ["DBA"])));

        Assert.Empty(roles);
    }

    [Theory]
    [InlineData("acme/shop/.github/workflows/ci.yml@refs/heads/main", true)]
    [InlineData("acme/shop/.github/workflows/ci.yml@", true)]
    [InlineData("acme/shop/.github/workflows/ci.yml", false)]
    [InlineData("acme/shop/.github/workflows/deploy.yml@refs/heads/main", false)]
    [InlineData("evil/acme/shop/.github/workflows/ci.yml@x", false)]
    public void Map_GlobClaim_GrantsRoleOnlyWhenGlobMatches(string workflowRef, bool granted)
    {
        var roles = s_designRoles.Map(Claims(("repository", ["acme/shop"]), ("job_workflow_ref", [workflowRef])));

        Assert.Equal(granted, roles.Contains("test"));
    }

    [Fact]
    public void Map_GlobOnSubject_GrantsRole()
    {
        Assert.Equal(["acme-any"], s_designRoles.Map(Claims(("sub", ["repo:acme/shop:ref:refs/heads/main"]))));
        Assert.Empty(s_designRoles.Map(Claims(("sub", ["repo:acmeco/shop"]))));
    }

    [Fact]
    public void Map_ArrayClaimWithMatchingElement_GrantsRole()
    {
        var roles = s_designRoles.Map(Claims(("groups", ["dev", "dba", "ops"])));

        Assert.Equal(["dba"], roles);
    }

    [Fact]
    public void Map_ArrayClaimWithoutMatchingElement_NoRole()
    {
        Assert.Empty(s_designRoles.Map(Claims(("groups", ["dev", "ops"]))));
        Assert.Empty(s_designRoles.Map(Claims(("groups", []))));
    }

    [Fact]
    public void Map_OneOfSeveralClaimsDiffers_NoRole()
    {
        var roles = s_designRoles.Map(Claims(("repository", ["acme/shop"]), ("ref", ["refs/heads/main"]), ("environment", ["staging"])));

        Assert.Empty(roles);
    }

    [Fact]
    public void Map_RequiredClaimMissing_NoRole()
    {
        var roles = s_designRoles.Map(Claims(("repository", ["acme/shop"]), ("ref", ["refs/heads/main"])));

        Assert.Empty(roles);
    }

    [Fact]
    public void Map_NothingMatches_ReturnsEmpty()
    {
        Assert.Empty(s_designRoles.Map(Claims(("repository", ["other/repo"]))));
        Assert.Empty(s_designRoles.Map(Claims()));
    }

    [Fact]
    public void Map_SeveralRolesMatch_AllGrantedInConfigOrder()
    {
        var roles = s_designRoles.Map(Claims(
            ("sub", ["repo:acme/shop:environment:production"]),
            ("repository", ["acme/shop"]),
            ("ref", ["refs/heads/main"]),
            ("environment", ["production"]),
            ("groups", ["dba"])));

        Assert.Equal(["deploy", "dba", "acme-any"], roles);
    }

    [Fact]
    public void Map_SameRoleNameTwice_EitherEarnsItOnce()
    {
        var mapper = new RoleMapper(
        [
            new RoleConfig { Name = "dba", Claims = { ["groups"] = "dba" } },
            new RoleConfig { Name = "dba", Claims = { ["actor"] = "alice" } },
        ]);

        Assert.Equal(["dba"], mapper.Map(Claims(("actor", ["alice"]))));
        Assert.Equal(["dba"], mapper.Map(Claims(("actor", ["alice"]), ("groups", ["dba"]))));
    }

    [Fact]
    public void Map_NumberAndBoolClaims_CompareByJsonText()
    {
        var mapper = new RoleMapper(
        [
            new RoleConfig { Name = "first-attempt", Claims = { ["run_attempt"] = "1", ["protected"] = "true" } },
        ]);

        // PayloadClaims renders 1 and true as their JSON text.
        Assert.Equal(["first-attempt"], mapper.Map(Claims(("run_attempt", ["1"]), ("protected", ["true"]))));
        Assert.Empty(mapper.Map(Claims(("run_attempt", ["2"]), ("protected", ["true"]))));
    }

    [Fact]
    public void Ctor_RoleWithoutClaims_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() => new RoleMapper([new RoleConfig { Name = "everyone" }]));

        Assert.Contains("role 'everyone' lists no claims", error.Message);
    }

    [Fact]
    public void Ctor_RoleWithoutName_Throws()
    {
        Assert.Throws<ArgumentException>(() => new RoleMapper([new RoleConfig { Claims = { ["sub"] = "x" } }]));
    }

    private static Dictionary<string, IReadOnlyList<string>> Claims(params (string Name, string[] Values)[] claims) =>
        claims.ToDictionary(c => c.Name, c => (IReadOnlyList<string>)c.Values, StringComparer.Ordinal);
}

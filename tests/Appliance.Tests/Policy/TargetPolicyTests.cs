using System.Text;
using Appliance.Configuration;
using Appliance.Policy;

namespace Appliance.Tests.Policy;

public sealed class TargetPolicyTests
{
    private static TargetPolicy Compile(params RuleConfig[] rules) => new(new TargetConfig { Name = "orders", Rules = [.. rules] });

    private static RuleConfig Allow(string[] roles, string[] classes, string[]? tables = null, string[]? functions = null) =>
        new() { Roles = [.. roles], Allow = [.. classes], Tables = [.. tables ?? []], Functions = [.. functions ?? []] };

    private static RuleConfig Deny(string[] roles, string[] classes, string[]? tables = null, string[]? functions = null) =>
        new() { Roles = [.. roles], Deny = [.. classes], Tables = [.. tables ?? []], Functions = [.. functions ?? []] };

    private static RuleConfig Review(string[] roles, string[] classes) =>
        new() { Roles = [.. roles], Review = [.. classes], Approvers = ["dba"] };

    /// <summary>Decides a statement described by its class, tables and functions.</summary>
    private static Decision Decide(TargetPolicy policy, string[] roles, StatementClass c, string[]? tables = null, string[]? functions = null, bool complete = true)
    {
        var names = new StringBuilder();
        var tableRanges = new List<Range>();
        var functionRanges = new List<Range>();
        foreach (var t in tables ?? [])
        {
            tableRanges.Add(new Range(names.Length, names.Length + t.Length));
            names.Append(t);
        }
        foreach (var f in functions ?? [])
        {
            functionRanges.Add(new Range(names.Length, names.Length + f.Length));
            names.Append(f);
        }
        var facts = new StatementFacts(c, Encoding.UTF8.GetBytes(names.ToString()), tableRanges.ToArray(), functionRanges.ToArray(), complete);
        return policy.Decide(policy.Applicability(roles), in facts);
    }

    [Fact]
    public void Decide_FirstMatchingRuleWins()
    {
        var policy = Compile(Deny(["test"], ["select"], ["public.secrets"]), Allow(["test"], ["select"], ["public.*"]));
        Assert.Equal(new Decision(PolicyAction.Deny, 0, DecisionReason.RuleMatched), Decide(policy, ["test"], StatementClass.Select, ["public.secrets"]));
        Assert.Equal(new Decision(PolicyAction.Allow, 1, DecisionReason.RuleMatched), Decide(policy, ["test"], StatementClass.Select, ["public.orders"]));
    }

    /// <summary>Decides with the calls resolved against a catalog, and relations read through views.</summary>
    private static Decision DecideResolved(TargetPolicy policy, string[] tables, string[] through, string[] functions, bool callsUserFunction)
    {
        var names = new StringBuilder();
        List<Range> Add(string[] list)
        {
            var ranges = new List<Range>();
            foreach (var n in list)
            {
                ranges.Add(new Range(names.Length, names.Length + n.Length));
                names.Append(n);
            }
            return ranges;
        }
        var t = Add(tables);
        var v = Add(through);
        var f = Add(functions);
        var facts = new StatementFacts(StatementClass.Select, Encoding.UTF8.GetBytes(names.ToString()), t.ToArray(), f.ToArray(), true, true, v.ToArray(),
            functionsResolved: true, callsUserFunction: callsUserFunction);
        return policy.Decide(policy.Applicability(["test"]), in facts);
    }

    [Fact]
    public void Decide_DenyWithTables_CoversViewsAndOpaqueCalls_NotBuiltIns()
    {
        var policy = Compile(Deny(["test"], ["select"], ["public.customers"]), Allow(["test"], ["select"]));
        // Read through a view: denied. Another view: allowed.
        Assert.Equal(PolicyAction.Deny, DecideResolved(policy, ["reports.emails"], ["public.customers"], [], false).Action);
        Assert.True(DecideResolved(policy, ["reports.totals"], ["public.orders"], [], false).IsAllowed);
        // No table named: built-in calls pass, a user function or a guarded one (runs SQL from a string) does not.
        Assert.True(DecideResolved(policy, [], [], ["version", "now"], false).IsAllowed);
        Assert.Equal(PolicyAction.Deny, DecideResolved(policy, [], [], ["card_of"], true).Action);
        Assert.Equal(PolicyAction.Deny, DecideResolved(policy, ["public.orders"], [], ["query_to_xml"], false).Action);
        // Unresolved (no catalog consulted): a statement naming no table still matches, as before.
        Assert.Equal(PolicyAction.Deny, Decide(policy, ["test"], StatementClass.Select, functions: ["version"]).Action);
    }

    [Fact]
    public void Decide_AllowNamingAView_AllowsItWhateverItReads()
    {
        var policy = Compile(Allow(["test"], ["select"], ["reports.*"]), Deny(["test"], ["select"], ["public.customers"]));
        Assert.True(DecideResolved(policy, ["reports.emails"], ["public.customers"], [], false).IsAllowed);
    }

    [Fact]
    public void Decide_NothingMatches_DefaultDeny()
    {
        var policy = Compile(Allow(["test"], ["select"]));
        Assert.Equal(new Decision(PolicyAction.Deny, -1, DecisionReason.NoRuleMatched), Decide(policy, ["test"], StatementClass.Delete, ["public.orders"]));
        Assert.Equal(new Decision(PolicyAction.Deny, -1, DecisionReason.NoRuleMatched), Decide(policy, ["deploy"], StatementClass.Select));
    }

    [Fact]
    public void Decide_AllowWithTables_EveryTableMustFit()
    {
        var policy = Compile(Allow(["test"], ["select"], ["public.*"]));
        Assert.True(Decide(policy, ["test"], StatementClass.Select, ["public.a", "public.b"]).IsAllowed);
        Assert.False(Decide(policy, ["test"], StatementClass.Select, ["public.a", "private.b"]).IsAllowed);
        Assert.True(Decide(policy, ["test"], StatementClass.Select).IsAllowed);
    }

    [Fact]
    public void Decide_CatalogReads_FitAllowRulesWithTablesButWritesDoNot()
    {
        var policy = Compile(Allow(["test"], ["select", "insert"], ["public.*"]));
        Assert.True(Decide(policy, ["test"], StatementClass.Select, ["pg_catalog.pg_type", "information_schema.tables", "public.a"]).IsAllowed);
        Assert.False(Decide(policy, ["test"], StatementClass.Insert, ["pg_catalog.pg_type"]).IsAllowed);
    }

    [Fact]
    public void Decide_TablesUnknown_AllowWithTablesFailsClosedAndDenyMatches()
    {
        var allow = Compile(Allow(["test"], ["select"], ["public.*"]));
        Assert.False(Decide(allow, ["test"], StatementClass.Select, ["public.a"], complete: false).IsAllowed);
        var deny = Compile(Deny(["*"], ["select"], ["private.*"]), Allow(["*"], ["select"]));
        Assert.Equal(0, Decide(deny, ["test"], StatementClass.Select, ["public.a"], complete: false).RuleIndex);
    }

    [Fact]
    public void Decide_DenyWithTables_AnyTableMatches()
    {
        var policy = Compile(Deny(["*"], ["delete"], ["public.audit*"]), Allow(["deploy"], ["all"]));
        Assert.Equal(PolicyAction.Deny, Decide(policy, ["deploy"], StatementClass.Delete, ["public.orders", "public.audit_log"]).Action);
        Assert.Equal(PolicyAction.Allow, Decide(policy, ["deploy"], StatementClass.Delete, ["public.orders"]).Action);
    }

    [Fact]
    public void Decide_All_ExcludesCopyProgramAndFile()
    {
        var policy = Compile(Allow(["dba"], ["all"]));
        Assert.True(Decide(policy, ["dba"], StatementClass.Ddl).IsAllowed);
        Assert.False(Decide(policy, ["dba"], StatementClass.CopyProgram).IsAllowed);
        Assert.False(Decide(policy, ["dba"], StatementClass.CopyFile).IsAllowed);
        Assert.True(Decide(Compile(Allow(["dba"], ["copy_program"])), ["dba"], StatementClass.CopyProgram).IsAllowed);
    }

    [Fact]
    public void Decide_GuardedFunction_DeniedUnlessAllowRuleNamesIt()
    {
        var policy = Compile(Allow(["test"], ["select"]));
        var refused = Decide(policy, ["test"], StatementClass.Select, functions: ["lo_import"]);
        Assert.Equal(new Decision(PolicyAction.Deny, 0, DecisionReason.GuardedFunction), refused);
        Assert.False(Decide(policy, ["test"], StatementClass.Select, functions: ["pg_catalog.pg_read_file"]).IsAllowed);
        Assert.True(Decide(policy, ["test"], StatementClass.Select, functions: ["now", "upper"]).IsAllowed);
        var permitted = Compile(Allow(["test"], ["select"], functions: ["lo_import"]));
        Assert.True(Decide(permitted, ["test"], StatementClass.Select, functions: ["lo_import"]).IsAllowed);
    }

    [Fact]
    public void Decide_GuardedFunctionsFromConfig_ExtendTheBuiltInList()
    {
        var target = new TargetConfig { Name = "orders", Rules = [Allow(["test"], ["select"])] };
        var policy = new TargetPolicy(target, new GuardedFunctions(["acme_purge_*"]));
        var applies = policy.Applicability(["test"]);
        foreach (var (name, guarded) in new[] { ("acme_purge_all", true), ("nextval", true), ("pg_advisory_lock", true), ("acme_report", false) })
        {
            var names = System.Text.Encoding.UTF8.GetBytes(name);
            var facts = new StatementFacts(StatementClass.Select, names, [], [0..names.Length], true);
            Assert.Equal(!guarded, policy.Decide(applies, in facts).IsAllowed);
        }
    }

    [Fact]
    public void Decide_DenyRuleWithFunctions_MatchesOnlyCallers()
    {
        var policy = Compile(Deny(["*"], ["all"], functions: ["pg_sleep*"]), Allow(["test"], ["select"]));
        Assert.Equal(0, Decide(policy, ["test"], StatementClass.Select, functions: ["pg_sleep"]).RuleIndex);
        Assert.Equal(1, Decide(policy, ["test"], StatementClass.Select, functions: ["now"]).RuleIndex);
    }

    [Fact]
    public void Decide_Review_ReturnsReviewWithRule()
    {
        var policy = Compile(Allow(["deploy"], ["select"]), Review(["deploy"], ["ddl"]));
        Assert.Equal(new Decision(PolicyAction.Review, 1, DecisionReason.RuleMatched), Decide(policy, ["deploy"], StatementClass.Ddl, ["public.x"]));
    }

    [Fact]
    public void Admits_OnlyRolesNamedByARule()
    {
        var policy = Compile(Allow(["test"], ["select"]), Review(["deploy"], ["ddl"]));
        Assert.True(policy.Admits(["deploy"]));
        Assert.False(policy.Admits(["outsider"]));
        Assert.True(Compile(Deny(["*"], ["do"])).Admits(["anyone"]));
    }

    [Fact]
    public void Decide_SteadyState_DoesNotAllocate()
    {
        var policy = Compile(Deny(["*"], ["copy_in", "do"]), Allow(["test"], ["select"], ["public.*"]));
        var applies = policy.Applicability(["test"]);
        var names = "public.customerspublic.ordersupper"u8.ToArray();
        Range[] tables = [0..16, 16..29];
        Range[] functions = [29..34];
        var facts = new StatementFacts(StatementClass.Select, names, tables, functions, true);
        // Steady state: the runtime's tiering may allocate on this thread while it promotes the method (once, at a
        // call-count threshold), so one of a few rounds of 1000 decisions must allocate nothing.
        long least = long.MaxValue;
        for (int round = 0; round < 5 && least > 0; round++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 1000; i++)
            {
                Assert.True(policy.Decide(applies, in facts).IsAllowed);
            }
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.Equal(0, least);
    }
}

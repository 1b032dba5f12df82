using System.Text;
using Appliance.Configuration;
using Appliance.Policy;
using BenchmarkDotNet.Attributes;

namespace Appliance.Bench.Policy;

/// <summary>
/// The policy decision alone, on already classified facts, against a load-run-like policy: a deny rule first,
/// then a role allowed to select public tables, then a broad allow for another role. Every statement asks this
/// once per effect, so all of it is hot path: no allocation.
/// </summary>
[MemoryDiagnoser]
public class TargetPolicyBenchmarks
{
    private static readonly byte[] s_names = Encoding.UTF8.GetBytes("public.pgbench_accountspublic.orderspublic.customerspg_catalog.pg_typepg_read_fileprivate.secrets");
    private static readonly Range s_accounts = 0..23;
    private static readonly Range s_orders = 23..36;
    private static readonly Range s_customers = 36..52;
    private static readonly Range s_pgType = 52..70;
    private static readonly Range s_readFile = 70..82;
    private static readonly Range s_secrets = 82..97;

    private readonly Range[] _oneTable = [s_accounts];
    private readonly Range[] _joinTables = [s_orders, s_customers, s_pgType];
    private readonly Range[] _secretTables = [s_orders, s_secrets];
    private readonly Range[] _guardedCall = [s_readFile];
    private TargetPolicy _policy = null!;
    private bool[] _applies = [];

    [GlobalSetup]
    public void Setup()
    {
        _policy = new TargetPolicy(new TargetConfig
        {
            Name = "bench",
            Rules =
            [
                new RuleConfig { Roles = ["test", "deploy"], Deny = ["copy_in", "do"] },
                new RuleConfig { Roles = ["test"], Deny = ["select"], Tables = ["private.*"] },
                new RuleConfig { Roles = ["test"], Allow = ["select", "transaction", "session"], Tables = ["public.*"] },
                new RuleConfig { Roles = ["deploy"], Allow = ["select", "insert", "update", "delete", "transaction", "session"] },
            ],
        });
        _applies = _policy.Applicability(["test"]);
    }

    [Benchmark(Baseline = true)]
    public bool Allow_SelectOneTable()
    {
        var facts = new StatementFacts(StatementClass.Select, s_names, _oneTable, [], tablesComplete: true);
        return _policy.Decide(_applies, in facts).IsAllowed;
    }

    [Benchmark]
    public bool Allow_SelectJoinWithCatalog()
    {
        var facts = new StatementFacts(StatementClass.Select, s_names, _joinTables, [], tablesComplete: true);
        return _policy.Decide(_applies, in facts).IsAllowed;
    }

    [Benchmark]
    public bool Allow_Transaction()
    {
        var facts = new StatementFacts(StatementClass.Transaction, s_names, [], [], tablesComplete: true);
        return _policy.Decide(_applies, in facts).IsAllowed;
    }

    [Benchmark]
    public bool Deny_TableRule()
    {
        var facts = new StatementFacts(StatementClass.Select, s_names, _secretTables, [], tablesComplete: true);
        return _policy.Decide(_applies, in facts).IsAllowed;
    }

    [Benchmark]
    public bool Deny_DefaultForUpdate()
    {
        var facts = new StatementFacts(StatementClass.Update, s_names, _oneTable, [], tablesComplete: true);
        return _policy.Decide(_applies, in facts).IsAllowed;
    }

    [Benchmark]
    public bool Deny_GuardedFunction()
    {
        var facts = new StatementFacts(StatementClass.Select, s_names, [], _guardedCall, tablesComplete: true);
        return _policy.Decide(_applies, in facts).IsAllowed;
    }
}

using System.Text;
using Appliance.Configuration;
using Appliance.Policy;
using Appliance.Postgres;
using BenchmarkDotNet.Attributes;

namespace Appliance.Bench.Postgres;

/// <summary>
/// The whole statement gate as the session runs it on every Query and Parse: split, classify, collect
/// names, decide each effect. Statements are pgbench's (-S, -N) and an ORM's; the policy is the load run's.
/// Allowed statements allocate nothing; a refusal builds its message (reported, not on the fast path).
/// The gate reads one contiguous span: multi-segment payloads are made linear before it (see the relay
/// and frame benchmarks for segmented input). A text allowed twice is remembered (PgDecisionCache): the
/// repeated texts here (a Parse, BEGIN, an ORM's parameterised query) measure that path. pgbench's simple
/// mode inlines a new aid every time, so those benchmarks rotate through 64 texts of one shape, as the load
/// run sees them: the text misses, its shape (numbers taken out) hits. The multi-statement script is never
/// remembered and measures the full decision. The <c>WithCatalog_</c> cases are a session that a deny rule
/// with tables applies to: every name and call of a decided text is looked up in the target's catalog (the
/// script: never remembered, so on every text; the others: remembered while the catalog snapshot stands).
/// </summary>
[MemoryDiagnoser]
public class PgStatementGateBenchmarks
{
    private static readonly byte[][] s_pgbenchSelect = Variants("SELECT abalance FROM pgbench_accounts WHERE aid = {0};");
    private static readonly byte[] s_pgbenchSelectParse = Encoding.UTF8.GetBytes("SELECT abalance FROM pgbench_accounts WHERE aid = $1;");
    private static readonly byte[][] s_pgbenchUpdate = Variants("UPDATE pgbench_accounts SET abalance = abalance + -2791 WHERE aid = {0};");
    private static readonly byte[][] s_pgbenchInsert = Variants("INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, {0}, -2791, CURRENT_TIMESTAMP);");
    private static readonly byte[] s_begin = Encoding.UTF8.GetBytes("BEGIN;");
    private static readonly byte[][] s_pgbenchScript = Variants(
        "BEGIN;\n" +
        "UPDATE pgbench_accounts SET abalance = abalance + -2791 WHERE aid = {0};\n" +
        "SELECT abalance FROM pgbench_accounts WHERE aid = {0};\n" +
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, {0}, -2791, CURRENT_TIMESTAMP);\n" +
        "END;");
    // What EF Core / Npgsql send: quoted identifiers, aliases, parameters, a join and a limit.
    private static readonly byte[] s_ormQuery = Encoding.UTF8.GetBytes(
        "SELECT o.\"Id\", o.\"CustomerId\", o.\"Total\", c.\"Id\", c.\"Name\"\nFROM public.\"Orders\" AS o\n" +
        "INNER JOIN public.\"Customers\" AS c ON o.\"CustomerId\" = c.\"Id\"\nWHERE o.\"CreatedAt\" > $1 AND c.\"Region\" = $2\n" +
        "ORDER BY o.\"Total\" DESC\nLIMIT $3");
    private static readonly byte[] s_refused = Encoding.UTF8.GetBytes("DROP TABLE pgbench_history");
    private static readonly byte[] s_viewAndCall = Encoding.UTF8.GetBytes("SELECT now(), coalesce(total, 0) FROM public.order_totals WHERE customer_id = $1");

    private static byte[][] Variants(string format) =>
        [.. Enumerable.Range(0, 64).Select(i => Encoding.UTF8.GetBytes(string.Format(System.Globalization.CultureInfo.InvariantCulture, format, 41234 + (i * 7919))))];

    private PgStatementGate _gate = null!;
    private PgStatementGate _catalogGate = null!;
    private int _next;

    private byte[] Next(byte[][] variants) => variants[_next++ & 63];

    [GlobalSetup]
    public void Setup()
    {
        var config = new ApplianceConfig
        {
            Targets =
            [
                new TargetConfig
                {
                    Name = "bench",
                    Rules =
                    [
                        new RuleConfig { Roles = ["test"], Deny = ["ddl", "copy_in", "do"] },
                        new RuleConfig { Roles = ["test"], Deny = ["select"], Tables = ["private.*"] },
                        new RuleConfig { Roles = ["test"], Allow = ["select", "transaction", "session"], Tables = ["public.*"] },
                        new RuleConfig { Roles = ["test"], Allow = ["insert", "update", "delete"], Tables = ["public.pgbench_*"] },
                    ],
                },
            ],
        };
        _gate = new PgStatementGate(new SessionPolicy(new PolicyStore(config), "bench", ["test"]));
        _gate.UseSearchSchemas(["public"]);
        _catalogGate = new PgStatementGate(new SessionPolicy(new PolicyStore(config), "bench", ["test"]))
        {
            Relations = new Appliance.Masking.CatalogSnapshot(1, [], [], new HashSet<uint>(), ["now", "count", "sum", "current_timestamp"], [])
            {
                KnownNames = ["public.pgbench_accounts", "public.pgbench_history", "public.Orders", "public.Customers", "public.order_totals", "public.orders"],
                ViewReads = new() { ["public.order_totals"] = ["public.orders"] },
            },
        };
        _catalogGate.UseSearchSchemas(["public"]);
    }

    [Benchmark(Baseline = true)]
    public bool PgbenchSelect_Simple() => _gate.Decide(Next(s_pgbenchSelect)) is null;

    [Benchmark]
    public bool PgbenchSelect_Parse() => _gate.Decide(s_pgbenchSelectParse) is null;

    [Benchmark]
    public bool PgbenchUpdate() => _gate.Decide(Next(s_pgbenchUpdate)) is null;

    [Benchmark]
    public bool PgbenchInsert() => _gate.Decide(Next(s_pgbenchInsert)) is null;

    [Benchmark]
    public bool Begin() => _gate.Decide(s_begin) is null;

    [Benchmark]
    public bool PgbenchScript_OneQuery() => _gate.Decide(Next(s_pgbenchScript)) is null;

    [Benchmark]
    public bool OrmJoin() => _gate.Decide(s_ormQuery) is null;

    [Benchmark]
    public bool Refused_Ddl() => _gate.Decide(s_refused) is null;

    [Benchmark]
    public bool WithCatalog_PgbenchScript_OneQuery() => _catalogGate.Decide(Next(s_pgbenchScript)) is null;

    [Benchmark]
    public bool WithCatalog_OrmJoin() => _catalogGate.Decide(s_ormQuery) is null;

    [Benchmark]
    public bool WithCatalog_ViewAndCalls() => _catalogGate.Decide(s_viewAndCall) is null;
}

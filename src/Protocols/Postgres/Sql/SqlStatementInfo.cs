namespace Appliance.Protocols.Postgres.Sql;

/// <summary>
/// The classification of one statement, filled by <see cref="SqlClassifier.Classify"/>. Reusable: a
/// session owns one and each classification resets it; its arrays grow rarely and never past
/// <see cref="MaxReferences"/>. Names are ranges of the statement text that was classified, so read
/// them with that same text.
/// </summary>
public sealed class SqlStatementInfo
{
    /// <summary>Most table references (read or written), functions or CTE names kept; past it <see cref="SqlStatementFlags.TooComplex"/> is set.</summary>
    public const int MaxReferences = 256;

    private const int InitialCapacity = 16;

    private SqlObjectName[] _read = new SqlObjectName[InitialCapacity];
    private SqlObjectName[] _written = new SqlObjectName[InitialCapacity];
    private SqlFunctionRef[] _functions = new SqlFunctionRef[InitialCapacity];
    private SqlName[] _ctes = new SqlName[InitialCapacity];
    private int _readCount;
    private int _writtenCount;
    private int _functionCount;
    private int _explicitCalls;

    /// <summary>What the statement does; <see cref="SqlStatementClass.Other"/> when not understood or on error.</summary>
    public SqlStatementClass Class { get; internal set; }

    /// <summary>Every class of action performed (see <see cref="SqlEffects"/>); check all of them.</summary>
    public SqlEffects Effects { get; internal set; }

    /// <summary>For PREPARE and plain EXPLAIN: the class of the statement prepared or explained (EXPLAIN ANALYZE takes it as <see cref="Class"/>).</summary>
    public SqlStatementClass InnerClass { get; internal set; }

    /// <summary>For PREPARE and plain EXPLAIN: the effects of the inner statement.</summary>
    public SqlEffects InnerEffects { get; internal set; }

    /// <summary>For PREPARE and EXPLAIN: the inner statement's range in the text.</summary>
    public Range InnerStatement { get; internal set; }

    /// <summary>Further facts, including whether the table or function lists may be incomplete.</summary>
    public SqlStatementFlags Flags { get; internal set; }

    /// <summary>The prepared statement (PREPARE, EXECUTE, DEALLOCATE) or cursor (DECLARE, FETCH, MOVE, CLOSE) named.</summary>
    public SqlName Name { get; internal set; }

    /// <summary>Why classification failed (with <see cref="System.Buffers.OperationStatus.InvalidData"/>), else null.</summary>
    public string? Error { get; internal set; }

    /// <summary>Tables (and views) read. For PREPARE, the prepared statement's; for plain EXPLAIN, every table of the explained statement.</summary>
    public ReadOnlySpan<SqlObjectName> TablesRead => _read.AsSpan(0, _readCount);

    /// <summary>Tables written: DML targets, COPY FROM targets, new tables, DDL and maintenance targets, LOCK targets.</summary>
    public ReadOnlySpan<SqlObjectName> TablesWritten => _written.AsSpan(0, _writtenCount);

    /// <summary>Functions invoked anywhere in the statement, including attribute-notation candidates.</summary>
    public ReadOnlySpan<SqlFunctionRef> Functions => _functions.AsSpan(0, _functionCount);

    /// <summary>True when the statement calls a function with <c>name(...)</c> syntax (CALL included).</summary>
    public bool HasFunctionCalls => _explicitCalls > 0;

    /// <summary>True when the table lists may miss something; a rule with table patterns must not match.</summary>
    public bool TablesIncomplete => (Flags & (SqlStatementFlags.TablesIncomplete | SqlStatementFlags.TooComplex)) != 0;

    /// <summary>True when the function list may miss something; a rule restricting functions must not match.</summary>
    public bool FunctionsIncomplete => (Flags & (SqlStatementFlags.FunctionsIncomplete | SqlStatementFlags.TooComplex)) != 0;

    /// <summary>The bit of <paramref name="statementClass"/> in <see cref="SqlEffects"/>.</summary>
    public static SqlEffects EffectOf(SqlStatementClass statementClass) => (SqlEffects)(1u << (int)statementClass);

    /// <summary>
    /// True when some function in <see cref="Functions"/>, whatever its schema, has the normalised name
    /// <paramref name="lowerCaseName"/> (for deny lists such as <c>pg_read_file</c> or <c>lo_import</c>).
    /// </summary>
    public bool CallsFunction(ReadOnlySpan<byte> statement, ReadOnlySpan<byte> lowerCaseName)
    {
        foreach (ref readonly var function in Functions)
        {
            if (function.Name.Name.EqualsNormalized(statement, lowerCaseName))
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>Clears everything for the next statement (keeps the arrays).</summary>
    public void Reset()
    {
        Class = SqlStatementClass.Other;
        Effects = SqlEffects.None;
        InnerClass = SqlStatementClass.Other;
        InnerEffects = SqlEffects.None;
        InnerStatement = default;
        Flags = SqlStatementFlags.None;
        Name = default;
        Error = null;
        _readCount = 0;
        _writtenCount = 0;
        _functionCount = 0;
        _explicitCalls = 0;
        CteCount = 0;
    }

    internal int CteCount { get; set; }

    internal void AddRead(in SqlObjectName name) => Add(ref _read, ref _readCount, name);

    internal void AddWritten(in SqlObjectName name) => Add(ref _written, ref _writtenCount, name);

    internal void AddFunction(in SqlObjectName name, bool attributeNotation)
    {
        if (!attributeNotation)
        {
            _explicitCalls++;
        }
        Add(ref _functions, ref _functionCount, new SqlFunctionRef(name, attributeNotation));
    }

    internal void PushCte(in SqlName name)
    {
        int count = CteCount;
        Add(ref _ctes, ref count, name);
        CteCount = count;
    }

    /// <summary>True when an unqualified <paramref name="name"/> means a CTE in scope rather than a table.</summary>
    internal bool IsCteName(ReadOnlySpan<byte> statement, in SqlName name)
    {
        if (CteCount == 0)
        {
            return false;
        }
        Span<byte> wanted = stackalloc byte[SqlName.MaxLength];
        Span<byte> candidate = stackalloc byte[SqlName.MaxLength];
        var value = wanted[..name.Normalize(statement, wanted)];
        for (int i = CteCount - 1; i >= 0; i--)
        {
            if (candidate[.._ctes[i].Normalize(statement, candidate)].SequenceEqual(value))
            {
                return true;
            }
        }
        return false;
    }

    // After a plain EXPLAIN nothing is written: every table is read.
    internal void MoveWrittenToRead()
    {
        for (int i = 0; i < _writtenCount; i++)
        {
            AddRead(_written[i]);
        }
        _writtenCount = 0;
    }

    private void Add<T>(ref T[] array, ref int count, in T item)
    {
        if (count == array.Length)
        {
            if (array.Length >= MaxReferences)
            {
                // Fail closed: the lists no longer say everything.
                Flags |= SqlStatementFlags.TooComplex | SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
                return;
            }
            Array.Resize(ref array, Math.Min(array.Length * 2, MaxReferences));
        }
        array[count++] = item;
    }
}

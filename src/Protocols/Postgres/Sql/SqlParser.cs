using System.Buffers;

namespace Appliance.Protocols.Postgres.Sql;

/// <summary>
/// A shallow recursive-descent reading of one statement: enough of PostgreSQL's grammar to know what
/// the statement does, which tables it reads and writes and which functions it calls. Whatever it does
/// not follow is scanned token by token for subqueries and calls, and the lists are marked incomplete.
/// </summary>
internal ref partial struct SqlParser
{
    // Nesting of subqueries and parentheses followed structurally; deeper text is scanned flat.
    private const int MaxDepth = 48;

    internal const string MultipleStatements = "more than one statement where one is expected";

    private readonly ReadOnlySpan<byte> _text;
    private readonly SqlLexerOptions _options;
    private readonly SqlStatementInfo _info;
    private SqlTokenReader _r;
    private int _depth;
    private int _innerStart;
    private bool _ddl;
    private bool _triggerFrom;
    private SqlObjectName _ddlTarget;

    public SqlParser(ReadOnlySpan<byte> text, SqlLexerOptions options, SqlStatementInfo info)
    {
        _text = text;
        _options = options;
        _info = info;
        _r = new SqlTokenReader(text, 0, options);
        _innerStart = -1;
    }

    public OperationStatus Run()
    {
        _r.Advance();
        while (_r.AtEnd && _r.EndedAtSemicolon && _r.Error is null)
        {
            _r = new SqlTokenReader(_text, _r.NextOffset, _options);
            _r.Advance();
        }
        if (_r.AtEnd)
        {
            if (_r.Error is not null)
            {
                return Fail(_r.Error);
            }
            _info.Class = SqlStatementClass.Empty;
            _info.Effects = SqlEffects.Empty;
            return OperationStatus.Done;
        }

        var statementClass = ParseStatement();
        if (!_r.AtEnd)
        {
            // Something the structural reading did not expect: scan it, and trust no list.
            Incomplete();
            ScanRest();
        }
        if (_r.Error is not null)
        {
            return Fail(_r.Error);
        }
        int end = _r.Previous.End;
        if (_r.EndedAtSemicolon)
        {
            int offset = _r.NextOffset;
            var status = SqlSplitter.TryNextStatement(_text, ref offset, _options, out _, out var error);
            if (status == OperationStatus.Done)
            {
                return Fail(MultipleStatements);
            }
            if (status == OperationStatus.InvalidData)
            {
                return Fail(error!);
            }
        }
        if (_innerStart >= 0)
        {
            _info.InnerStatement = _innerStart..Math.Max(_innerStart, end);
        }
        _info.Class = statementClass;
        _info.Effects |= SqlStatementInfo.EffectOf(statementClass);
        return OperationStatus.Done;
    }

    private OperationStatus Fail(string reason)
    {
        _info.Class = SqlStatementClass.Other;
        _info.Effects = SqlEffects.Other;
        _info.Error = reason;
        _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
        return OperationStatus.InvalidData;
    }

    private SqlStatementClass ParseStatement()
    {
        if (Kind == SqlTokenKind.LeftParen)
        {
            return ResolveQuery(ParseQueryOrDml());
        }
        switch (Kw)
        {
            case SqlKeyword.Select:
            case SqlKeyword.Values:
            case SqlKeyword.Table:
            case SqlKeyword.With:
            case SqlKeyword.Insert:
            case SqlKeyword.Update:
            case SqlKeyword.Delete:
            case SqlKeyword.Merge:
                return ResolveQuery(ParseQueryOrDml());
            case SqlKeyword.Explain:
                return ParseExplain();
            case SqlKeyword.Copy:
                return ParseCopy();
            case SqlKeyword.Create:
                return ParseCreate();
            case SqlKeyword.Alter:
                return ParseAlter();
            case SqlKeyword.Drop:
                return ParseDrop();
            case SqlKeyword.Truncate:
                return ParseTruncate();
            case SqlKeyword.Comment:
                Advance();
                Accept(SqlKeyword.On);
                return ParseObjectTarget();
            case SqlKeyword.Security:
                return ParseSecurityLabel();
            case SqlKeyword.Grant:
            case SqlKeyword.Revoke:
                return ParseGrant();
            case SqlKeyword.Import:
                // IMPORT FOREIGN SCHEMA creates foreign tables it does not name.
                Advance();
                Incomplete();
                ScanDdlRest();
                return SqlStatementClass.Ddl;
            case SqlKeyword.Reassign:
            case SqlKeyword.Load:
                Advance();
                return AdminRest();
            case SqlKeyword.Begin:
            case SqlKeyword.Start:
            case SqlKeyword.Commit:
            case SqlKeyword.End:
            case SqlKeyword.Rollback:
            case SqlKeyword.Abort:
            case SqlKeyword.Savepoint:
            case SqlKeyword.Release:
                Advance();
                ScanRest();
                return SqlStatementClass.Transaction;
            case SqlKeyword.Prepare:
                return ParsePrepare();
            case SqlKeyword.Execute:
                return ParseExecute();
            case SqlKeyword.Deallocate:
                return ParseDeallocate();
            case SqlKeyword.Declare:
                return ParseDeclare();
            case SqlKeyword.Fetch:
            case SqlKeyword.Move:
            case SqlKeyword.Close:
                return ParseCursorCommand();
            case SqlKeyword.Set:
                return ParseSet();
            case SqlKeyword.Reset:
                return ParseReset();
            case SqlKeyword.Discard:
                return ParseDiscard();
            case SqlKeyword.Show:
            case SqlKeyword.Listen:
            case SqlKeyword.Unlisten:
            case SqlKeyword.Notify:
                Advance();
                ScanRest();
                return SqlStatementClass.Session;
            case SqlKeyword.Call:
                return ParseCall();
            case SqlKeyword.Do:
                // The body is a string in some procedural language: nothing in it can be seen.
                Advance();
                _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
                ScanRest();
                return SqlStatementClass.Do;
            case SqlKeyword.Lock:
                return ParseLock();
            case SqlKeyword.Vacuum:
            case SqlKeyword.Analyze:
            case SqlKeyword.Analyse:
                return ParseVacuum();
            case SqlKeyword.Cluster:
                return ParseCluster();
            case SqlKeyword.Reindex:
                return ParseReindex();
            case SqlKeyword.Refresh:
                return ParseRefresh();
            case SqlKeyword.Checkpoint:
                Advance();
                Incomplete();
                ScanRest();
                return SqlStatementClass.Maintenance;
            default:
                _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
                ScanRest();
                return SqlStatementClass.Other;
        }
    }

    // A query's class from what it did: a writing CTE makes it that write (the most severe of several),
    // a locking clause makes a read a Lock, SELECT INTO makes it DDL.
    private readonly SqlStatementClass ResolveQuery(SqlStatementClass main)
    {
        var effects = _info.Effects;
        var write = (effects & SqlEffects.Merge) != 0 ? SqlStatementClass.Merge
            : (effects & SqlEffects.Delete) != 0 ? SqlStatementClass.Delete
            : (effects & SqlEffects.Update) != 0 ? SqlStatementClass.Update
            : (effects & SqlEffects.Insert) != 0 ? SqlStatementClass.Insert
            : SqlStatementClass.Other;
        switch (main)
        {
            case SqlStatementClass.Select:
                if ((_info.Flags & SqlStatementFlags.SelectInto) != 0)
                {
                    return SqlStatementClass.Ddl;
                }
                return write != SqlStatementClass.Other ? write
                    : (effects & SqlEffects.Lock) != 0 ? SqlStatementClass.Lock : SqlStatementClass.Select;
            case SqlStatementClass.Insert:
            case SqlStatementClass.Update:
            case SqlStatementClass.Delete:
            case SqlStatementClass.Merge:
                return write;
            default:
                return main;
        }
    }

    // ---- token helpers ----

    private readonly SqlTokenKind Kind => _r.Current.Kind;

    private readonly SqlKeyword Kw => _r.Current.Keyword;

    private readonly bool AtEnd => _r.AtEnd;

    private readonly bool Is(SqlKeyword keyword) => _r.Current.Keyword == keyword;

    private void Advance() => _r.Advance();

    private bool Accept(SqlKeyword keyword)
    {
        if (_r.Current.Keyword != keyword)
        {
            return false;
        }
        _r.Advance();
        return true;
    }

    private bool AcceptComma()
    {
        if (_r.Current.Kind != SqlTokenKind.Comma)
        {
            return false;
        }
        _r.Advance();
        return true;
    }

    private SqlKeyword PeekKw() => _r.Peek().Keyword;

    private SqlTokenKind PeekKind() => _r.Peek().Kind;

    private readonly bool IsStar() => IsStar(_r.Current, _text);

    private static bool IsStar(in SqlToken t, ReadOnlySpan<byte> text) => t.Kind == SqlTokenKind.Operator && t.Length == 1 && text[t.Start] == '*';

    private readonly void Incomplete() => _info.Flags |= SqlStatementFlags.TablesIncomplete;

    private readonly void TooDeep() =>
        _info.Flags |= SqlStatementFlags.TooComplex | SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;

    // PostgreSQL's ColId (tables, columns, aliases): quoted, or unquoted and not reserved nor a
    // type/function-name keyword; function names may also be type/function-name keywords (left, right...).
    private static bool IsNameToken(in SqlToken t, bool allowTypeFunction) =>
        t.Kind == SqlTokenKind.QuotedIdentifier
        || (t.Kind == SqlTokenKind.Identifier
            && (SqlKeywords.IsColumnId(t.Keyword) || (allowTypeFunction && SqlKeywords.IsTypeFunctionName(t.Keyword))));

    // ---- recording ----

    private readonly void RecordRead(in SqlObjectName name)
    {
        if (!name.IsQualified && _info.IsCteName(_text, name.Name))
        {
            return;
        }
        _info.AddRead(name);
        _info.Effects |= SqlEffects.Select;
    }

    private readonly void RecordWrite(in SqlObjectName name) => _info.AddWritten(name);

    private readonly void RecordCall(in SqlObjectName name) => _info.AddFunction(name, attributeNotation: false);

    // ---- names ----

    private struct NameParts
    {
        public SqlName P0;
        public SqlName P1;
        public SqlName P2;
        public SqlName P3;
        public int Count;

        public void Add(SqlName name)
        {
            switch (Count)
            {
                case 0: P0 = name; break;
                case 1: P1 = name; break;
                case 2: P2 = name; break;
                case 3: P3 = name; break;
            }
            Count++;
        }

        // name, schema.name, catalog.schema.name (the server refuses any other catalog than its own).
        public readonly SqlObjectName AsObject() => Count switch
        {
            1 => new SqlObjectName(default, P0),
            2 => new SqlObjectName(P0, P1),
            3 => new SqlObjectName(P1, P2),
            _ => new SqlObjectName(P2, P3),
        };

        // The table of a column reference: table.column, schema.table.column.
        public readonly SqlObjectName AllButLast() => Count switch
        {
            2 => new SqlObjectName(default, P0),
            3 => new SqlObjectName(P0, P1),
            4 => new SqlObjectName(P1, P2),
            _ => default,
        };
    }

    private bool TryParseName(out NameParts parts, bool allowTypeFunction)
    {
        parts = default;
        var t = _r.Current;
        if (!IsNameToken(t, allowTypeFunction))
        {
            return false;
        }
        AddPart(ref parts, t);
        while (_r.Current.Kind == SqlTokenKind.Dot)
        {
            var next = _r.Peek();
            if (next.Kind is not (SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier))
            {
                break; // t.* and the like
            }
            Advance();
            AddPart(ref parts, next);
        }
        if (parts.Count > 4)
        {
            // "improper qualified name" to the server; never guess which part is which.
            _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
        }
        return true;
    }

    // Current is the part's token; leaves the cursor after it (and after a UESCAPE clause).
    private void AddPart(ref NameParts parts, in SqlToken t)
    {
        parts.Add(SqlName.From(t));
        bool unicode = (t.Flags & SqlTokenFlags.UnicodeEscapes) != 0;
        Advance();
        if (unicode)
        {
            bool uescape = Is(SqlKeyword.Uescape);
            if (uescape || t.Slice(_text).Contains((byte)'\\'))
            {
                // The server decodes U&"..." escapes; names compared here would be the raw text.
                _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
            }
            if (uescape)
            {
                Advance();
                if (Kind == SqlTokenKind.String)
                {
                    Advance();
                }
            }
        }
    }

    // [ONLY] name [*] or ONLY (name): a relation_expr. Records it; false (and incomplete) without a name.
    private bool ParseRelation(bool write, out SqlObjectName name)
    {
        name = default;
        bool parenthesized = false;
        if (Accept(SqlKeyword.Only) && Kind == SqlTokenKind.LeftParen)
        {
            Advance();
            parenthesized = true;
        }
        if (!TryParseName(out var parts, allowTypeFunction: false))
        {
            Incomplete();
            if (parenthesized)
            {
                Close();
            }
            return false;
        }
        if (IsStar())
        {
            Advance();
        }
        if (parenthesized)
        {
            Close();
        }
        name = parts.AsObject();
        if (write)
        {
            RecordWrite(name);
        }
        else
        {
            RecordRead(name);
        }
        return true;
    }

    private bool ParseRelation(bool write) => ParseRelation(write, out _);

    // ---- skipping ----

    // Current is '(' or '['; moves past the matching close without looking inside (column and
    // type lists, option lists).
    private void SkipBalanced() => SkipBalanced(ref _r);

    private static void SkipBalanced(ref SqlTokenReader r)
    {
        int depth = 0;
        do
        {
            switch (r.Current.Kind)
            {
                case SqlTokenKind.LeftParen:
                case SqlTokenKind.LeftBracket:
                    depth++;
                    break;
                case SqlTokenKind.RightParen:
                case SqlTokenKind.RightBracket:
                    depth--;
                    break;
                case SqlTokenKind.End:
                    return;
            }
            r.Advance();
        }
        while (depth > 0);
    }

    // Expects the close of the current parenthesis; anything before it was not understood.
    private void Close()
    {
        if (Kind is SqlTokenKind.RightParen or SqlTokenKind.RightBracket)
        {
            Advance();
            return;
        }
        Incomplete();
        ScanExpression(Stops.None);
        if (Kind is SqlTokenKind.RightParen or SqlTokenKind.RightBracket)
        {
            Advance();
        }
    }

    private void ScanRest()
    {
        while (!AtEnd)
        {
            ScanExpression(Stops.None);
            if (!AtEnd)
            {
                Advance();
            }
        }
    }
}

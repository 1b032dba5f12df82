namespace Appliance.Protocols.Postgres.Sql;

internal ref partial struct SqlParser
{
    // EXPLAIN [ANALYZE] [VERBOSE] statement | EXPLAIN (option [value], ...) statement
    private SqlStatementClass ParseExplain()
    {
        Advance();
        bool analyze = false;
        if (Kind == SqlTokenKind.LeftParen)
        {
            Advance();
            while (!AtEnd && Kind != SqlTokenKind.RightParen)
            {
                bool isAnalyze = Kw is SqlKeyword.Analyze or SqlKeyword.Analyse;
                Advance();
                int values = 0;
                bool off = false;
                while (!AtEnd && Kind is not (SqlTokenKind.Comma or SqlTokenKind.RightParen))
                {
                    off = values == 0 && IsFalseValue(_r.Current);
                    values++;
                    Advance();
                }
                // ANALYZE with no value, or with anything but false/off/0, runs the statement.
                if (isAnalyze && !(values == 1 && off))
                {
                    analyze = true;
                }
                AcceptComma();
            }
            Close();
        }
        else
        {
            while (Kw is SqlKeyword.Analyze or SqlKeyword.Analyse or SqlKeyword.Verbose)
            {
                analyze |= Kw != SqlKeyword.Verbose;
                Advance();
            }
        }
        _innerStart = _r.Current.Start;
        var inner = ParseExplainable();
        if (analyze)
        {
            _info.Flags |= SqlStatementFlags.ExplainAnalyze;
            return inner;
        }
        // Planned, not run: nothing is written, nothing executes (the flags about the inner statement stay).
        _info.InnerClass = inner;
        _info.InnerEffects = _info.Effects | SqlStatementInfo.EffectOf(inner);
        _info.Effects = SqlEffects.None;
        _info.Flags &= ~SqlStatementFlags.ExecutesPrepared;
        _info.MoveWrittenToRead();
        return SqlStatementClass.Explain;
    }

    private readonly bool IsFalseValue(in SqlToken t)
    {
        var text = t.Slice(_text);
        return t.Kind switch
        {
            SqlTokenKind.Identifier => t.Keyword == SqlKeyword.False || SqlName.From(t).EqualsNormalized(_text, "off"u8),
            SqlTokenKind.Number => text.SequenceEqual("0"u8),
            SqlTokenKind.String => t.Flags == SqlTokenFlags.None
                && (EqualsIgnoreCase(text, "'false'"u8) || EqualsIgnoreCase(text, "'off'"u8)),
            _ => false,
        };
    }

    private static bool EqualsIgnoreCase(ReadOnlySpan<byte> text, ReadOnlySpan<byte> lower)
    {
        if (text.Length != lower.Length)
        {
            return false;
        }
        for (int i = 0; i < text.Length; i++)
        {
            byte b = text[i];
            if ((b is >= (byte)'A' and <= (byte)'Z' ? (byte)(b | 0x20) : b) != lower[i])
            {
                return false;
            }
        }
        return true;
    }

    private SqlStatementClass ParseExplainable()
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
            case SqlKeyword.Declare:
                return ParseDeclare();
            case SqlKeyword.Create:
                return ParseCreate();
            case SqlKeyword.Refresh:
                return ParseRefresh();
            case SqlKeyword.Execute:
                return ParseExecute();
            default:
                _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
                ScanRest();
                return SqlStatementClass.Other;
        }
    }

    // PREPARE name [(types)] AS statement | PREPARE TRANSACTION 'gid'
    private SqlStatementClass ParsePrepare()
    {
        Advance();
        if (Is(SqlKeyword.Transaction) && PeekKind() == SqlTokenKind.String)
        {
            ScanRest();
            return SqlStatementClass.Transaction;
        }
        if (!IsNameToken(_r.Current, false))
        {
            _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
            ScanRest();
            return SqlStatementClass.Other;
        }
        _info.Name = SqlName.From(_r.Current);
        Advance();
        if (Kind == SqlTokenKind.LeftParen)
        {
            SkipBalanced();
        }
        if (!Accept(SqlKeyword.As))
        {
            _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
            ScanRest();
            return SqlStatementClass.Other;
        }
        _innerStart = _r.Current.Start;
        SqlStatementClass inner;
        if (Kind == SqlTokenKind.LeftParen
            || Kw is SqlKeyword.Select or SqlKeyword.Values or SqlKeyword.Table or SqlKeyword.With
                or SqlKeyword.Insert or SqlKeyword.Update or SqlKeyword.Delete or SqlKeyword.Merge)
        {
            inner = ResolveQuery(ParseQueryOrDml());
        }
        else
        {
            _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
            ScanRest();
            inner = SqlStatementClass.Other;
        }
        // Preparing runs nothing; the gateway decides at EXECUTE on the inner classification.
        _info.InnerClass = inner;
        _info.InnerEffects = _info.Effects | SqlStatementInfo.EffectOf(inner);
        _info.Effects = SqlEffects.None;
        return SqlStatementClass.Prepare;
    }

    // EXECUTE name [(arguments)]
    private SqlStatementClass ParseExecute()
    {
        Advance();
        if (IsNameToken(_r.Current, false))
        {
            _info.Name = SqlName.From(_r.Current);
            Advance();
        }
        else
        {
            Incomplete();
        }
        _info.Flags |= SqlStatementFlags.ExecutesPrepared;
        if (Kind == SqlTokenKind.LeftParen)
        {
            ScanParenthesized();
        }
        return SqlStatementClass.Execute;
    }

    // DEALLOCATE [PREPARE] {name | ALL}
    private SqlStatementClass ParseDeallocate()
    {
        Advance();
        Accept(SqlKeyword.Prepare);
        _info.Flags |= SqlStatementFlags.Deallocate;
        if (Accept(SqlKeyword.All))
        {
            _info.Flags |= SqlStatementFlags.AllNames;
        }
        else if (IsNameToken(_r.Current, false))
        {
            _info.Name = SqlName.From(_r.Current);
            Advance();
        }
        ScanRest();
        return SqlStatementClass.Session;
    }

    // DECLARE name [BINARY] [ASENSITIVE|INSENSITIVE] [[NO] SCROLL] CURSOR [{WITH|WITHOUT} HOLD] FOR query
    private SqlStatementClass ParseDeclare()
    {
        Advance();
        if (IsNameToken(_r.Current, false))
        {
            _info.Name = SqlName.From(_r.Current);
            Advance();
        }
        while (Kw is SqlKeyword.Binary or SqlKeyword.Insensitive or SqlKeyword.Asensitive or SqlKeyword.No or SqlKeyword.Scroll)
        {
            Advance();
        }
        if (!Accept(SqlKeyword.Cursor))
        {
            _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
            ScanRest();
            return SqlStatementClass.Other;
        }
        if (Kw is SqlKeyword.With or SqlKeyword.Without && PeekKw() == SqlKeyword.Hold)
        {
            Advance();
            Advance();
        }
        if (!Accept(SqlKeyword.For))
        {
            _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
            ScanRest();
            return SqlStatementClass.Other;
        }
        _info.Flags |= SqlStatementFlags.CursorDeclaration;
        return ResolveQuery(ParseQueryOrDml());
    }

    // FETCH / MOVE [direction] [FROM|IN] cursor, CLOSE {cursor | ALL}: the cursor is the last name.
    private SqlStatementClass ParseCursorCommand()
    {
        bool close = Is(SqlKeyword.Close);
        Advance();
        if (close && Accept(SqlKeyword.All))
        {
            _info.Flags |= SqlStatementFlags.AllNames;
        }
        var last = default(SqlToken);
        while (!AtEnd)
        {
            if (Kind is SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier)
            {
                last = _r.Current;
            }
            Advance();
        }
        if (last.Kind != SqlTokenKind.None)
        {
            _info.Name = SqlName.From(last);
        }
        return SqlStatementClass.Fetch;
    }

    // SET [LOCAL|SESSION] {name {TO|=} value | ROLE ... | SESSION AUTHORIZATION ... | TIME ZONE ... |
    // NAMES ... | SCHEMA ... | TRANSACTION ... | SESSION CHARACTERISTICS ... | CONSTRAINTS ...}
    private SqlStatementClass ParseSet()
    {
        Advance();
        if (!Accept(SqlKeyword.Local))
        {
            Accept(SqlKeyword.Session);
        }
        var result = SqlStatementClass.Session;
        switch (Kw)
        {
            case SqlKeyword.Role:
            case SqlKeyword.Authorization: // SET SESSION AUTHORIZATION
                result = SqlStatementClass.Privilege;
                break;
            case SqlKeyword.Session when PeekKw() == SqlKeyword.Authorization: // SET LOCAL|SESSION SESSION AUTHORIZATION
                result = SqlStatementClass.Privilege;
                break;
            case SqlKeyword.Session when PeekKw() == SqlKeyword.Characteristics:
                result = SqlStatementClass.Transaction;
                break;
            case SqlKeyword.Characteristics:
            case SqlKeyword.Transaction:
            case SqlKeyword.Constraints:
                result = SqlStatementClass.Transaction;
                break;
            case SqlKeyword.Names:
                _info.Flags |= SqlStatementFlags.SetsLexerSetting;
                break;
            case SqlKeyword.Schema:
                _info.Flags |= SqlStatementFlags.SetsSearchPath;
                break;
            default:
                result = SettingClass(_r.Current, result);
                break;
        }
        ScanRest();
        return result;
    }

    // RESET {name | ALL | ROLE | SESSION AUTHORIZATION | TIME ZONE | TRANSACTION ISOLATION LEVEL}
    private SqlStatementClass ParseReset()
    {
        Advance();
        var result = SqlStatementClass.Session;
        switch (Kw)
        {
            case SqlKeyword.Role:
                result = SqlStatementClass.Privilege;
                break;
            case SqlKeyword.Session when PeekKw() == SqlKeyword.Authorization:
                result = SqlStatementClass.Privilege;
                break;
            case SqlKeyword.All:
                _info.Flags |= SqlStatementFlags.SetsSearchPath | SqlStatementFlags.SetsLexerSetting;
                result = SqlStatementClass.Privilege;
                break;
            default:
                result = SettingClass(_r.Current, result);
                break;
        }
        ScanRest();
        return result;
    }

    // The settings the gateway must know about by name: role and session_authorization change
    // privileges; search_path changes what unqualified names mean; the other two change lexing.
    // Setting names are case-insensitive even when quoted (SET "Search_Path" = ...).
    private readonly SqlStatementClass SettingClass(in SqlToken t, SqlStatementClass result)
    {
        if (t.Kind is not (SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier))
        {
            return result;
        }
        Span<byte> buffer = stackalloc byte[SqlName.MaxLength];
        var name = buffer[..SqlName.From(t).Normalize(_text, buffer)];
        if (EqualsIgnoreCase(name, "search_path"u8))
        {
            _info.Flags |= SqlStatementFlags.SetsSearchPath;
        }
        else if (EqualsIgnoreCase(name, "standard_conforming_strings"u8) || EqualsIgnoreCase(name, "client_encoding"u8))
        {
            _info.Flags |= SqlStatementFlags.SetsLexerSetting;
        }
        else if (EqualsIgnoreCase(name, "role"u8) || EqualsIgnoreCase(name, "session_authorization"u8))
        {
            return SqlStatementClass.Privilege;
        }
        return result;
    }

    // DISCARD {ALL | PLANS | SEQUENCES | TEMP | TEMPORARY}: ALL also resets the session authorization,
    // every setting and drops every prepared statement.
    private SqlStatementClass ParseDiscard()
    {
        Advance();
        var result = SqlStatementClass.Session;
        if (Is(SqlKeyword.All))
        {
            _info.Flags |= SqlStatementFlags.SetsSearchPath | SqlStatementFlags.SetsLexerSetting
                | SqlStatementFlags.Deallocate | SqlStatementFlags.AllNames;
            result = SqlStatementClass.Privilege;
        }
        ScanRest();
        return result;
    }

    // CALL name(arguments)
    private SqlStatementClass ParseCall()
    {
        Advance();
        if (TryParseName(out var parts, allowTypeFunction: true))
        {
            RecordCall(parts.AsObject());
            if (Kind == SqlTokenKind.LeftParen)
            {
                ScanParenthesized();
            }
        }
        else
        {
            _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
        }
        ScanRest();
        return SqlStatementClass.Call;
    }

    // LOCK [TABLE] [ONLY] name [*] [, ...] [IN mode MODE] [NOWAIT]
    private SqlStatementClass ParseLock()
    {
        Advance();
        Accept(SqlKeyword.Table);
        while (ParseRelation(write: true) && AcceptComma())
        {
        }
        ScanRest();
        return SqlStatementClass.Lock;
    }

    // TRUNCATE [TABLE] [ONLY] name [*] [, ...] [RESTART|CONTINUE IDENTITY] [CASCADE|RESTRICT]
    private SqlStatementClass ParseTruncate()
    {
        Advance();
        Accept(SqlKeyword.Table);
        while (ParseRelation(write: true) && AcceptComma())
        {
        }
        ScanDdlRest();
        return SqlStatementClass.Ddl;
    }

    // VACUUM [(options)] [FULL] [FREEZE] [VERBOSE] [ANALYZE] [name [(columns)], ...]
    // ANALYZE [(options)] [VERBOSE] [name [(columns)], ...]
    private SqlStatementClass ParseVacuum()
    {
        Advance();
        if (Kind == SqlTokenKind.LeftParen)
        {
            SkipBalanced();
        }
        while (Kw is SqlKeyword.Full or SqlKeyword.Freeze or SqlKeyword.Verbose or SqlKeyword.Analyze or SqlKeyword.Analyse)
        {
            Advance();
        }
        int count = 0;
        while ((IsNameToken(_r.Current, false) || Is(SqlKeyword.Only)) && ParseRelation(write: true))
        {
            count++;
            if (Kind == SqlTokenKind.LeftParen)
            {
                SkipBalanced();
            }
            if (!AcceptComma())
            {
                break;
            }
        }
        if (count == 0)
        {
            Incomplete(); // every table of the database
        }
        ScanRest();
        return SqlStatementClass.Maintenance;
    }

    // CLUSTER [VERBOSE] [(options)] [name [USING index]] | CLUSTER index ON name
    private SqlStatementClass ParseCluster()
    {
        Advance();
        if (Kind == SqlTokenKind.LeftParen)
        {
            SkipBalanced();
        }
        Accept(SqlKeyword.Verbose);
        if (!IsNameToken(_r.Current, false))
        {
            Incomplete();
        }
        else
        {
            ParseRelation(write: true);
            if (Accept(SqlKeyword.On))
            {
                ParseRelation(write: true);
            }
            else if (Accept(SqlKeyword.Using))
            {
                TryParseName(out _, false);
            }
        }
        ScanRest();
        return SqlStatementClass.Maintenance;
    }

    // REINDEX [(options)] {INDEX|TABLE|SCHEMA|DATABASE|SYSTEM} [CONCURRENTLY] name
    private SqlStatementClass ParseReindex()
    {
        Advance();
        if (Kind == SqlTokenKind.LeftParen)
        {
            SkipBalanced();
        }
        bool relation = Kw is SqlKeyword.Index or SqlKeyword.Table;
        Advance();
        Accept(SqlKeyword.Concurrently);
        if (!relation || !ParseRelation(write: true))
        {
            Incomplete();
        }
        ScanRest();
        return SqlStatementClass.Maintenance;
    }

    // REFRESH MATERIALIZED VIEW [CONCURRENTLY] name [WITH [NO] DATA]
    private SqlStatementClass ParseRefresh()
    {
        Advance();
        Accept(SqlKeyword.Materialized);
        Accept(SqlKeyword.View);
        Accept(SqlKeyword.Concurrently);
        ParseRelation(write: true);
        ScanRest();
        return SqlStatementClass.Maintenance;
    }
}

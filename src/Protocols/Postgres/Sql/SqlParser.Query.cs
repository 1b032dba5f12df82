namespace Appliance.Protocols.Postgres.Sql;

internal ref partial struct SqlParser
{
    /// <summary>
    /// [WITH ...] followed by SELECT / VALUES / TABLE / ( query ) with set operations and tail, or by
    /// INSERT / UPDATE / DELETE / MERGE. Returns the main statement's class; writes and locks also land in
    /// the effects. CTE names defined here are in scope until it returns.
    /// </summary>
    private SqlStatementClass ParseQueryOrDml()
    {
        if (_depth >= MaxDepth)
        {
            TooDeep();
            ScanFlat(atOpen: false);
            return SqlStatementClass.Other;
        }
        _depth++;
        bool ddl = _ddl;
        _ddl = false;
        int scope = _info.CteCount;
        if (Is(SqlKeyword.With))
        {
            ParseWith();
        }
        SqlStatementClass result;
        switch (Kw)
        {
            case SqlKeyword.Insert:
                result = ParseInsert();
                break;
            case SqlKeyword.Update:
                result = ParseUpdate();
                break;
            case SqlKeyword.Delete:
                result = ParseDelete();
                break;
            case SqlKeyword.Merge:
                result = ParseMerge();
                break;
            case SqlKeyword.Select:
            case SqlKeyword.Values:
            case SqlKeyword.Table:
                ParseSelectBody();
                result = SqlStatementClass.Select;
                break;
            default:
                if (Kind == SqlTokenKind.LeftParen)
                {
                    ParseSelectBody();
                    result = SqlStatementClass.Select;
                }
                else
                {
                    Incomplete();
                    result = SqlStatementClass.Other;
                }
                break;
        }
        _info.CteCount = scope;
        _ddl = ddl;
        _depth--;
        return result;
    }

    private void ParseSelectBody()
    {
        ParseSetOperand();
        while (Kw is SqlKeyword.Union or SqlKeyword.Intersect or SqlKeyword.Except)
        {
            Advance();
            if (!Accept(SqlKeyword.All))
            {
                Accept(SqlKeyword.Distinct);
            }
            ParseSetOperand();
        }
        ParseQueryTail();
    }

    private void ParseSetOperand()
    {
        if (Kind == SqlTokenKind.LeftParen)
        {
            Advance();
            ParseQueryOrDml();
            Close();
            return;
        }
        switch (Kw)
        {
            case SqlKeyword.Select:
                ParseSimpleSelect();
                break;
            case SqlKeyword.Values:
                Advance();
                ScanExpression(Stops.Clauses);
                break;
            case SqlKeyword.Table:
                Advance();
                ParseRelation(write: false);
                break;
            default:
                Incomplete();
                break;
        }
    }

    private void ParseSimpleSelect()
    {
        Advance();
        if (!Accept(SqlKeyword.All) && Accept(SqlKeyword.Distinct) && Accept(SqlKeyword.On) && Kind == SqlTokenKind.LeftParen)
        {
            ScanParenthesized();
        }
        ScanExpression(Stops.Clauses);
        while (true)
        {
            switch (Kw)
            {
                case SqlKeyword.Into:
                    Advance();
                    ParseSelectInto();
                    break;
                case SqlKeyword.From:
                    Advance();
                    ParseFromList();
                    break;
                case SqlKeyword.Where:
                case SqlKeyword.Having:
                case SqlKeyword.Window:
                    Advance();
                    ScanExpression(Stops.Clauses);
                    break;
                case SqlKeyword.Group:
                    Advance();
                    Accept(SqlKeyword.By);
                    if (!Accept(SqlKeyword.All))
                    {
                        Accept(SqlKeyword.Distinct);
                    }
                    ScanExpression(Stops.Clauses);
                    break;
                default:
                    return;
            }
        }
    }

    private void ParseQueryTail()
    {
        while (true)
        {
            switch (Kw)
            {
                case SqlKeyword.Order:
                    Advance();
                    Accept(SqlKeyword.By);
                    ScanExpression(Stops.Clauses);
                    break;
                case SqlKeyword.Limit:
                case SqlKeyword.Offset:
                    Advance();
                    ScanExpression(Stops.Clauses);
                    break;
                case SqlKeyword.Fetch:
                    Advance();
                    ScanExpression(Stops.Clauses);
                    if (Is(SqlKeyword.With) && PeekKw() == SqlKeyword.Ties)
                    {
                        Advance();
                        Advance();
                    }
                    break;
                case SqlKeyword.For:
                    ParseLockingClause();
                    break;
                default:
                    return;
            }
        }
    }

    // FOR UPDATE | NO KEY UPDATE | SHARE | KEY SHARE [OF names] [NOWAIT | SKIP LOCKED], or FOR READ ONLY.
    private void ParseLockingClause()
    {
        Advance();
        if (Accept(SqlKeyword.Read))
        {
            Accept(SqlKeyword.Only);
            return;
        }
        if (Kw is not (SqlKeyword.Update or SqlKeyword.Share or SqlKeyword.No or SqlKeyword.Key))
        {
            Incomplete();
            return;
        }
        _info.Effects |= SqlEffects.Lock;
        while (Kw is SqlKeyword.Update or SqlKeyword.Share or SqlKeyword.No or SqlKeyword.Key)
        {
            Advance();
        }
        if (Accept(SqlKeyword.Of))
        {
            // Names of FROM items, not new tables.
            while (TryParseName(out _, false) && AcceptComma())
            {
            }
        }
        if (!Accept(SqlKeyword.Nowait) && Accept(SqlKeyword.Skip))
        {
            Accept(SqlKeyword.Locked);
        }
    }

    // SELECT ... INTO [TEMP|TEMPORARY|UNLOGGED] [TABLE] name: creates a table.
    private void ParseSelectInto()
    {
        while (Kw is SqlKeyword.Temporary or SqlKeyword.Temp or SqlKeyword.Unlogged or SqlKeyword.Local or SqlKeyword.Global)
        {
            Advance();
        }
        Accept(SqlKeyword.Table);
        if (TryParseName(out var parts, false))
        {
            RecordWrite(parts.AsObject());
            _info.Flags |= SqlStatementFlags.SelectInto;
            _info.Effects |= SqlEffects.Ddl;
        }
        else
        {
            Incomplete();
        }
    }

    private void ParseFromList()
    {
        do
        {
            ParseTableRef();
            ParseJoins();
        }
        while (AcceptComma());
    }

    private void ParseTableRef()
    {
        Accept(SqlKeyword.Lateral);
        var t = _r.Current;
        if (t.Kind == SqlTokenKind.LeftParen)
        {
            ParseParenthesizedTableRef();
            return;
        }
        if (t.Keyword == SqlKeyword.Only)
        {
            ParseRelation(write: false);
            ParseAliasAndSample();
            return;
        }
        if (t.Keyword == SqlKeyword.Rows && PeekKw() == SqlKeyword.From)
        {
            // ROWS FROM (f(...), g(...)): the calls are found inside.
            Advance();
            Advance();
            if (Kind == SqlTokenKind.LeftParen)
            {
                ScanParenthesized();
            }
            ParseFunctionSuffix();
            return;
        }
        if (!TryParseName(out var parts, allowTypeFunction: false))
        {
            Incomplete();
            return;
        }
        if (Kind == SqlTokenKind.LeftParen)
        {
            // A function in FROM (generate_series(...), xmltable(...), json_table(...)): a call, not a table.
            RecordCall(parts.AsObject());
            ScanParenthesized();
            ParseFunctionSuffix();
            return;
        }
        if (IsStar())
        {
            Advance();
        }
        RecordRead(parts.AsObject());
        ParseAliasAndSample();
    }

    // ( query ) alias, ( joined tables ) [alias], or (( query ) UNION ...) alias.
    private void ParseParenthesizedTableRef()
    {
        if (_depth >= MaxDepth)
        {
            TooDeep();
            ScanFlat(atOpen: true);
            ParseAlias(forbidSet: false);
            return;
        }
        _depth++;
        if (IsQueryAfterParen())
        {
            Advance();
            ParseQueryOrDml();
        }
        else
        {
            Advance();
            ParseTableRef();
            ParseJoins();
            if (Kw is SqlKeyword.Union or SqlKeyword.Intersect or SqlKeyword.Except or SqlKeyword.Order
                or SqlKeyword.Limit or SqlKeyword.Offset or SqlKeyword.Fetch or SqlKeyword.For)
            {
                // The first item was a parenthesized query of a set operation.
                while (Kw is SqlKeyword.Union or SqlKeyword.Intersect or SqlKeyword.Except)
                {
                    Advance();
                    if (!Accept(SqlKeyword.All))
                    {
                        Accept(SqlKeyword.Distinct);
                    }
                    ParseSetOperand();
                }
                ParseQueryTail();
            }
        }
        Close();
        ParseAlias(forbidSet: false);
        _depth--;
    }

    private void ParseFunctionSuffix()
    {
        if (Is(SqlKeyword.With) && PeekKw() == SqlKeyword.Ordinality)
        {
            Advance();
            Advance();
        }
        ParseAlias(forbidSet: false);
    }

    private void ParseAliasAndSample()
    {
        ParseAlias(forbidSet: false);
        if (Accept(SqlKeyword.Tablesample))
        {
            TryParseName(out _, true);
            if (Kind == SqlTokenKind.LeftParen)
            {
                ScanParenthesized();
            }
            if (Accept(SqlKeyword.Repeatable) && Kind == SqlTokenKind.LeftParen)
            {
                ScanParenthesized();
            }
        }
    }

    // [AS] alias [(columns)] or AS (column definitions). Without AS the alias is a ColId, and after an
    // UPDATE target never SET.
    private void ParseAlias(bool forbidSet)
    {
        if (Accept(SqlKeyword.As))
        {
            if (Kind is SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier)
            {
                Advance();
            }
            else if (Kind != SqlTokenKind.LeftParen)
            {
                Incomplete();
                return;
            }
            if (Kind == SqlTokenKind.LeftParen)
            {
                SkipBalanced();
            }
            return;
        }
        var t = _r.Current;
        if (IsNameToken(t, false) && !(forbidSet && t.Keyword == SqlKeyword.Set))
        {
            Advance();
            if (Kind == SqlTokenKind.LeftParen)
            {
                SkipBalanced();
            }
        }
    }

    // Any mix of [NATURAL] [INNER | LEFT | RIGHT | FULL] [OUTER] JOIN item, CROSS JOIN item,
    // ON condition and USING (columns) [AS alias], so nested forms (a JOIN b JOIN c ON x ON y) need no
    // pairing.
    private void ParseJoins()
    {
        while (true)
        {
            var keyword = Kw;
            if (keyword == SqlKeyword.Join
                || (keyword is SqlKeyword.Cross or SqlKeyword.Natural or SqlKeyword.Inner or SqlKeyword.Left or SqlKeyword.Right or SqlKeyword.Full
                    && PeekKind() != SqlTokenKind.LeftParen))
            {
                while (Kw is SqlKeyword.Cross or SqlKeyword.Natural or SqlKeyword.Inner or SqlKeyword.Left or SqlKeyword.Right
                    or SqlKeyword.Full or SqlKeyword.Outer)
                {
                    Advance();
                }
                if (!Accept(SqlKeyword.Join))
                {
                    Incomplete();
                    return;
                }
                ParseTableRef();
            }
            else if (keyword == SqlKeyword.On && PeekKw() != SqlKeyword.Conflict)
            {
                Advance();
                ScanExpression(Stops.Clauses | Stops.Comma | Stops.Joins | Stops.When);
            }
            else if (keyword == SqlKeyword.Using)
            {
                Advance();
                if (Kind == SqlTokenKind.LeftParen)
                {
                    SkipBalanced();
                }
                if (Accept(SqlKeyword.As) && Kind is SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier)
                {
                    Advance();
                }
            }
            else
            {
                return;
            }
        }
    }

    // WITH [RECURSIVE] name [(columns)] AS [[NOT] MATERIALIZED] ( statement ) [SEARCH ...] [CYCLE ...], ...
    // A name is in scope after its own body (before every body with RECURSIVE, where forward
    // references are allowed), so a table of the same name read by an earlier body stays a table.
    private void ParseWith()
    {
        Advance();
        bool recursive = Accept(SqlKeyword.Recursive);
        if (recursive)
        {
            RegisterRecursiveNames();
        }
        do
        {
            var t = _r.Current;
            if (!IsNameToken(t, false))
            {
                Incomplete();
                return;
            }
            var name = SqlName.From(t);
            Advance();
            if (Kind == SqlTokenKind.LeftParen)
            {
                SkipBalanced();
            }
            if (!Accept(SqlKeyword.As))
            {
                Incomplete();
                return;
            }
            if (Accept(SqlKeyword.Not))
            {
                Accept(SqlKeyword.Materialized);
            }
            else
            {
                Accept(SqlKeyword.Materialized);
            }
            if (Kind != SqlTokenKind.LeftParen)
            {
                Incomplete();
                return;
            }
            Advance();
            var body = ParseQueryOrDml();
            Close();
            if (body is SqlStatementClass.Insert or SqlStatementClass.Update or SqlStatementClass.Delete or SqlStatementClass.Merge)
            {
                _info.Flags |= SqlStatementFlags.WritingCte;
            }
            if (!recursive)
            {
                _info.PushCte(name);
            }
            SkipSearchCycle();
        }
        while (AcceptComma());
    }

    private void RegisterRecursiveNames()
    {
        var saved = _r;
        while (IsNameToken(_r.Current, false))
        {
            _info.PushCte(SqlName.From(_r.Current));
            Advance();
            if (Kind == SqlTokenKind.LeftParen)
            {
                SkipBalanced();
            }
            if (!Accept(SqlKeyword.As))
            {
                break;
            }
            if (!Accept(SqlKeyword.Not))
            {
                Accept(SqlKeyword.Materialized);
            }
            else
            {
                Accept(SqlKeyword.Materialized);
            }
            if (Kind != SqlTokenKind.LeftParen)
            {
                break;
            }
            SkipBalanced();
            SkipSearchCycle();
            if (!AcceptComma())
            {
                break;
            }
        }
        _r = saved;
    }

    // SEARCH {BREADTH|DEPTH} FIRST BY columns SET column
    // CYCLE columns SET column [TO value DEFAULT value] USING column
    private void SkipSearchCycle()
    {
        if (Accept(SqlKeyword.Search))
        {
            while (!AtEnd && !Is(SqlKeyword.Set))
            {
                Advance();
            }
            if (Accept(SqlKeyword.Set))
            {
                Advance();
            }
        }
        if (Accept(SqlKeyword.Cycle))
        {
            while (!AtEnd && !Is(SqlKeyword.Set))
            {
                Advance();
            }
            if (Accept(SqlKeyword.Set))
            {
                Advance();
                if (Accept(SqlKeyword.To))
                {
                    while (!AtEnd && !Is(SqlKeyword.Using))
                    {
                        Advance();
                    }
                }
                if (Accept(SqlKeyword.Using))
                {
                    Advance();
                }
            }
        }
    }
}

namespace Appliance.Protocols.Postgres.Sql;

internal ref partial struct SqlParser
{
    // What ends an expression scan at its own nesting level (besides ')' and the end).
    [Flags]
    private enum Stops : byte
    {
        None = 0,

        // The clause keywords of queries and DML: FROM (not IS [NOT] DISTINCT FROM), INTO, WHERE,
        // GROUP (not WITHIN GROUP), HAVING, WINDOW, ORDER, LIMIT, OFFSET, FETCH, FOR (not COLLATION FOR),
        // UNION, INTERSECT, EXCEPT, ON, RETURNING, WITH (not WITH TIME ZONE). None of these is a bare
        // column label, so a target list cannot hide one.
        Clauses = 1,
        Comma = 2,

        // JOIN and the words that start one (LEFT/RIGHT/... not followed by '(', which are functions).
        Joins = 4,

        // WHEN, with CASE ... END followed; only where no column label can appear (ON conditions, MERGE).
        When = 8,
        Do = 16,
        Returning = 32,
    }

    /// <summary>
    /// Scans an expression (or any run of tokens) at the current level: subqueries are parsed, calls and
    /// casts recorded, nested parentheses followed; stops at ')' or ']' of the enclosing level, the end,
    /// or a stop word at this level.
    /// </summary>
    private void ScanExpression(Stops stops)
    {
        int caseDepth = 0;
        SqlKeyword k1 = SqlKeyword.None, k2 = SqlKeyword.None, k3 = SqlKeyword.None;
        while (true)
        {
            var t = _r.Current;
            var keyword = t.Keyword;
            switch (t.Kind)
            {
                case SqlTokenKind.End:
                case SqlTokenKind.RightParen:
                case SqlTokenKind.RightBracket:
                    return;
                case SqlTokenKind.Comma:
                    if ((stops & Stops.Comma) != 0)
                    {
                        return;
                    }
                    Advance();
                    break;
                case SqlTokenKind.Semicolon:
                    // Only inside a BEGIN ATOMIC body or a rule's parenthesized actions: it ends a
                    // statement there, so a structured scan stops and the generic one moves on.
                    if (stops != Stops.None)
                    {
                        return;
                    }
                    Advance();
                    break;
                case SqlTokenKind.LeftParen:
                    ScanParenthesized();
                    break;
                case SqlTokenKind.LeftBracket:
                    ScanParenthesized();
                    break;
                case SqlTokenKind.DoubleColon:
                    Advance();
                    SkipTypeName();
                    break;
                case SqlTokenKind.Dot:
                    ScanFieldSelection();
                    break;
                case SqlTokenKind.Identifier:
                    if (stops != Stops.None && caseDepth == 0 && IsStop(keyword, stops, k1, k2, k3))
                    {
                        return;
                    }
                    if ((stops & Stops.When) != 0)
                    {
                        if (keyword == SqlKeyword.Case)
                        {
                            caseDepth++;
                        }
                        else if (keyword == SqlKeyword.End && caseDepth > 0)
                        {
                            caseDepth--;
                        }
                    }
                    ScanWord();
                    break;
                case SqlTokenKind.QuotedIdentifier:
                    ScanNameOrCall();
                    break;
                default:
                    Advance();
                    break;
            }
            k3 = k2;
            k2 = k1;
            k1 = keyword;
        }
    }

    private bool IsStop(SqlKeyword keyword, Stops stops, SqlKeyword k1, SqlKeyword k2, SqlKeyword k3)
    {
        if ((stops & Stops.Clauses) != 0)
        {
            switch (keyword)
            {
                case SqlKeyword.From:
                    return !(k1 == SqlKeyword.Distinct && (k2 == SqlKeyword.Is || (k2 == SqlKeyword.Not && k3 == SqlKeyword.Is)));
                case SqlKeyword.Group:
                    return k1 != SqlKeyword.Within;
                case SqlKeyword.For:
                    return k1 != SqlKeyword.Collation;
                case SqlKeyword.With:
                    return PeekKw() is not (SqlKeyword.Time or SqlKeyword.Ordinality);
                case SqlKeyword.Into:
                case SqlKeyword.Where:
                case SqlKeyword.Having:
                case SqlKeyword.Window:
                case SqlKeyword.Order:
                case SqlKeyword.Limit:
                case SqlKeyword.Offset:
                case SqlKeyword.Fetch:
                case SqlKeyword.Union:
                case SqlKeyword.Intersect:
                case SqlKeyword.Except:
                case SqlKeyword.On:
                case SqlKeyword.Returning:
                    return true;
            }
        }
        if ((stops & Stops.Joins) != 0)
        {
            switch (keyword)
            {
                case SqlKeyword.Join:
                    return true;
                case SqlKeyword.Cross:
                case SqlKeyword.Natural:
                case SqlKeyword.Inner:
                case SqlKeyword.Left:
                case SqlKeyword.Right:
                case SqlKeyword.Full:
                    return PeekKind() != SqlTokenKind.LeftParen;
            }
        }
        return keyword switch
        {
            SqlKeyword.When => (stops & Stops.When) != 0,
            SqlKeyword.Do => (stops & Stops.Do) != 0,
            SqlKeyword.Returning => (stops & Stops.Returning) != 0,
            _ => false,
        };
    }

    // Current is an unquoted identifier.
    private void ScanWord()
    {
        var keyword = Kw;
        switch (keyword)
        {
            case SqlKeyword.Select:
                ParseQueryOrDml();
                return;
            case SqlKeyword.With:
                if (IsCteStart())
                {
                    ParseQueryOrDml();
                    return;
                }
                break;
            case SqlKeyword.Table:
                Advance();
                if (IsNameToken(_r.Current, false) || Is(SqlKeyword.Only))
                {
                    ParseRelation(write: false);
                }
                return;
            case SqlKeyword.Insert:
            case SqlKeyword.Merge:
                if (PeekKw() == SqlKeyword.Into)
                {
                    ParseQueryOrDml();
                    return;
                }
                break;
            case SqlKeyword.Delete:
                if (PeekKw() == SqlKeyword.From)
                {
                    ParseQueryOrDml();
                    return;
                }
                break;
            case SqlKeyword.Update:
                if (IsUpdateStatement())
                {
                    ParseQueryOrDml();
                    return;
                }
                break;
            case SqlKeyword.For:
                if (PeekKw() is SqlKeyword.Update or SqlKeyword.Share or SqlKeyword.No or SqlKeyword.Key)
                {
                    _info.Effects |= SqlEffects.Lock;
                }
                break;
            case SqlKeyword.As:
                Advance();
                AfterAs();
                return;
        }
        if (_ddl && ScanDdlWord(keyword))
        {
            return;
        }
        if (SqlKeywords.IsReserved(keyword))
        {
            Advance();
            return;
        }
        ScanNameOrCall();
    }

    // A name, a qualified name, or a call name(...) / schema.name(...).
    private void ScanNameOrCall()
    {
        var first = _r.Current;
        if (!TryParseName(out var parts, allowTypeFunction: true))
        {
            Advance();
            return;
        }
        if (Kind == SqlTokenKind.LeftParen)
        {
            if (parts.Count > 1 || !IsSyntaxWord(first))
            {
                RecordCall(parts.AsObject());
            }
            ScanParenthesized();
        }
    }

    // Unreserved and column-name keywords that take parentheses as syntax, not as a call (types with
    // modifiers, OVER (...), FILTER (...), ON CONFLICT (...), PRIMARY KEY (...), GROUPING SETS (...),
    // UPDATE ... SET (a, b) = ..., MERGE's INSERT (...), EXISTS, VALUES, ROW). COALESCE, NULLIF,
    // GREATEST, LEAST, EXTRACT, SUBSTRING, POSITION, OVERLAY, TRIM, NORMALIZE, GROUPING, XML* and
    // type/function-name keywords such as LEFT and RIGHT are recorded as calls.
    private static bool IsSyntaxWord(in SqlToken t)
    {
        if (t.Kind != SqlTokenKind.Identifier)
        {
            return false;
        }
        switch (t.Keyword)
        {
            case SqlKeyword.Join:
            case SqlKeyword.Is:
            case SqlKeyword.Isnull:
            case SqlKeyword.Notnull:
            case SqlKeyword.Like:
            case SqlKeyword.Ilike:
            case SqlKeyword.Similar:
            case SqlKeyword.Overlaps:
            case SqlKeyword.Outer:
            case SqlKeyword.Over:
            case SqlKeyword.Filter:
            case SqlKeyword.By:
            case SqlKeyword.Set:
            case SqlKeyword.Insert:
            case SqlKeyword.Conflict:
            case SqlKeyword.Key:
            case SqlKeyword.Sets:
            case SqlKeyword.Repeatable:
            case SqlKeyword.Of:
            case SqlKeyword.Include:
            case SqlKeyword.Options:
            case SqlKeyword.Instead:
            case SqlKeyword.Passing:
            case SqlKeyword.Operator:
            case SqlKeyword.Also:
            case SqlKeyword.Values:
            case SqlKeyword.Exists:
            case SqlKeyword.Row:
            case SqlKeyword.Between:
            case SqlKeyword.Setof:
            case SqlKeyword.Inout:
            case SqlKeyword.Out:
            case SqlKeyword.NoneKeyword:
            case SqlKeyword.National:
            case SqlKeyword.Precision:
            case SqlKeyword.Varying:
            case SqlKeyword.Bigint:
            case SqlKeyword.Bit:
            case SqlKeyword.Boolean:
            case SqlKeyword.Char:
            case SqlKeyword.Character:
            case SqlKeyword.Dec:
            case SqlKeyword.Decimal:
            case SqlKeyword.Float:
            case SqlKeyword.Int:
            case SqlKeyword.Integer:
            case SqlKeyword.Interval:
            case SqlKeyword.Nchar:
            case SqlKeyword.Numeric:
            case SqlKeyword.Real:
            case SqlKeyword.Smallint:
            case SqlKeyword.Time:
            case SqlKeyword.Timestamp:
            case SqlKeyword.Varchar:
                return true;
            default:
                return false;
        }
    }

    // Current is '(' (or '[' of a subscript or array constructor).
    private void ScanParenthesized()
    {
        if (_depth >= MaxDepth)
        {
            TooDeep();
            ScanFlat(atOpen: true);
            return;
        }
        _depth++;
        bool query = Kind == SqlTokenKind.LeftParen && IsQueryAfterParen();
        Advance();
        if (query)
        {
            ParseQueryOrDml();
        }
        else
        {
            ScanExpression(Stops.None);
        }
        Close();
        _depth--;
    }

    // Current is '(': does a query start inside? (SELECT, TABLE, WITH, VALUES (...)); '((' is left to
    // the inner level to decide.
    private bool IsQueryAfterParen()
    {
        var next = _r.Peek();
        switch (next.Keyword)
        {
            case SqlKeyword.Select:
            case SqlKeyword.Table:
            case SqlKeyword.With:
                return true;
            case SqlKeyword.Values:
                var copy = _r;
                copy.Advance();
                copy.Advance();
                return copy.Current.Kind == SqlTokenKind.LeftParen;
            default:
                return false;
        }
    }

    // Current is WITH: does a CTE list follow (WITH RECURSIVE, WITH name [(...)] AS)? Not WITH (options),
    // WITH TIME ZONE, WITH NO DATA, WITH CHECK OPTION, WITH ORDINALITY, WITH HOLD...
    private bool IsCteStart()
    {
        var copy = _r;
        copy.Advance();
        var t = copy.Current;
        if (t.Keyword == SqlKeyword.Recursive)
        {
            return true;
        }
        if (!IsNameToken(t, false) || t.Keyword == SqlKeyword.Ordinality)
        {
            return false;
        }
        copy.Advance();
        if (copy.Current.Kind == SqlTokenKind.LeftParen)
        {
            SkipBalanced(ref copy);
        }
        return copy.Current.Keyword == SqlKeyword.As;
    }

    // Current is UPDATE: UPDATE [ONLY] name [*] [[AS] alias] SET, as opposed to the word in FOR UPDATE,
    // ON CONFLICT DO UPDATE SET, MERGE's THEN UPDATE SET, GRANT UPDATE ON, UPDATE OF in triggers.
    private bool IsUpdateStatement()
    {
        var copy = _r;
        copy.Advance();
        if (copy.Current.Keyword == SqlKeyword.Only)
        {
            copy.Advance();
        }
        if (!IsNameToken(copy.Current, false))
        {
            return false;
        }
        copy.Advance();
        while (copy.Current.Kind == SqlTokenKind.Dot)
        {
            copy.Advance();
            if (copy.Current.Kind is not (SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier))
            {
                return false;
            }
            copy.Advance();
        }
        if (IsStar(copy.Current, _text))
        {
            copy.Advance();
        }
        if (copy.Current.Keyword == SqlKeyword.As)
        {
            copy.Advance();
            copy.Advance();
        }
        else if (IsNameToken(copy.Current, false) && copy.Current.Keyword != SqlKeyword.Set)
        {
            copy.Advance();
        }
        return copy.Current.Keyword == SqlKeyword.Set;
    }

    // After AS in an expression: CAST (x AS type) or a column label; a type's modifiers are scanned.
    private void AfterAs()
    {
        var t = _r.Current;
        if (_ddl && t.Keyword == SqlKeyword.Execute)
        {
            // CREATE TABLE ... AS EXECUTE name: runs a prepared statement.
            Advance();
            if (IsNameToken(_r.Current, false))
            {
                _info.Name = SqlName.From(_r.Current);
                _info.Flags |= SqlStatementFlags.ExecutesPrepared;
                Advance();
            }
            return;
        }
        if (t.Kind == SqlTokenKind.QuotedIdentifier
            || (t.Kind == SqlTokenKind.Identifier && SqlKeywords.IsColumnId(t.Keyword) && t.Keyword != SqlKeyword.Values))
        {
            SkipTypeName();
        }
    }

    // A type name after :: or AS: [SETOF] name[.name] [(modifiers)] [VARYING|PRECISION]
    // [WITH|WITHOUT TIME ZONE] [interval fields] [[]...] [ARRAY[n]]. Modifiers are scanned, not skipped.
    private void SkipTypeName()
    {
        Accept(SqlKeyword.Setof);
        var t = _r.Current;
        if (!(t.Kind == SqlTokenKind.QuotedIdentifier || (t.Kind == SqlTokenKind.Identifier && !SqlKeywords.IsReserved(t.Keyword))))
        {
            return;
        }
        var baseType = t.Keyword;
        Advance();
        while (Kind == SqlTokenKind.Dot && PeekKind() is SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier)
        {
            Advance();
            Advance();
        }
        if (Kind == SqlTokenKind.LeftParen)
        {
            ScanParenthesized();
        }
        while (true)
        {
            var keyword = Kw;
            if (keyword is SqlKeyword.Varying or SqlKeyword.Precision)
            {
                Advance();
            }
            else if (keyword is SqlKeyword.With or SqlKeyword.Without && PeekKw() == SqlKeyword.Time)
            {
                Advance();
                Advance();
                Accept(SqlKeyword.Zone);
            }
            else if (baseType == SqlKeyword.Interval
                && keyword is SqlKeyword.Year or SqlKeyword.Month or SqlKeyword.Day or SqlKeyword.Hour
                    or SqlKeyword.Minute or SqlKeyword.Second or SqlKeyword.To)
            {
                Advance();
            }
            else
            {
                break;
            }
            if (Kind == SqlTokenKind.LeftParen)
            {
                ScanParenthesized();
            }
        }
        while (Kind == SqlTokenKind.LeftBracket)
        {
            SkipBalanced();
        }
        if (Is(SqlKeyword.Array))
        {
            Advance();
            if (Kind == SqlTokenKind.LeftBracket)
            {
                SkipBalanced();
            }
        }
    }

    // Current is '.': after ')', ']' or a parameter it selects a field, which the server runs as a
    // function of one argument when no such field exists: ('/etc/passwd'::text).pg_read_file.
    private void ScanFieldSelection()
    {
        var before = _r.Previous.Kind;
        if (before is not (SqlTokenKind.RightParen or SqlTokenKind.RightBracket or SqlTokenKind.Parameter))
        {
            Advance();
            return;
        }
        while (Kind == SqlTokenKind.Dot)
        {
            var next = _r.Peek();
            if (next.Kind is not (SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier))
            {
                Advance();
                return;
            }
            Advance();
            _info.AddFunction(new SqlObjectName(default, SqlName.From(next)), attributeNotation: true);
            Advance();
        }
    }

    // Past the nesting the parser follows: walk to the matching close (or, with atOpen false, to the
    // close of the current level) recording calls and locking clauses without structure.
    private void ScanFlat(bool atOpen)
    {
        int depth = 0;
        SqlToken b1 = default, b2 = default, b3 = default; // the tokens before the current one
        while (true)
        {
            var t = _r.Current;
            switch (t.Kind)
            {
                case SqlTokenKind.End:
                    return;
                case SqlTokenKind.LeftParen:
                case SqlTokenKind.LeftBracket:
                    if (t.Kind == SqlTokenKind.LeftParen && IsNameToken(b1, true) && !IsSyntaxWord(b1))
                    {
                        var schema = b2.Kind == SqlTokenKind.Dot && IsNameToken(b3, true) ? SqlName.From(b3) : default;
                        RecordCall(new SqlObjectName(schema, SqlName.From(b1)));
                    }
                    depth++;
                    break;
                case SqlTokenKind.RightParen:
                case SqlTokenKind.RightBracket:
                    if (depth == 0)
                    {
                        return;
                    }
                    depth--;
                    if (depth == 0 && atOpen)
                    {
                        Advance();
                        return;
                    }
                    break;
                case SqlTokenKind.Dot:
                    if (b1.Kind is SqlTokenKind.RightParen or SqlTokenKind.RightBracket or SqlTokenKind.Parameter)
                    {
                        var next = _r.Peek();
                        if (next.Kind is SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier)
                        {
                            _info.AddFunction(new SqlObjectName(default, SqlName.From(next)), attributeNotation: true);
                        }
                    }
                    break;
                case SqlTokenKind.Identifier:
                    if (t.Keyword == SqlKeyword.For && PeekKw() is SqlKeyword.Update or SqlKeyword.Share or SqlKeyword.No or SqlKeyword.Key)
                    {
                        _info.Effects |= SqlEffects.Lock;
                    }
                    break;
            }
            b3 = b2;
            b2 = b1;
            b1 = t;
            Advance();
        }
    }
}

namespace Appliance.Protocols.Postgres.Sql;

internal ref partial struct SqlParser
{
    // INSERT INTO name [AS alias] [(columns)] [OVERRIDING ... VALUE] {DEFAULT VALUES | query}
    // [ON CONFLICT ...] [RETURNING ...]
    private SqlStatementClass ParseInsert()
    {
        Advance();
        _info.Effects |= SqlEffects.Insert;
        if (!Accept(SqlKeyword.Into) || !TryParseName(out var parts, false))
        {
            Incomplete();
            return SqlStatementClass.Insert;
        }
        RecordWrite(parts.AsObject());
        if (Accept(SqlKeyword.As) && Kind is SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier)
        {
            Advance();
        }
        if (Kind == SqlTokenKind.LeftParen && !IsQueryAfterParen() && PeekKind() != SqlTokenKind.LeftParen)
        {
            // Column names, whose subscripts may hold any expression.
            ScanParenthesized();
        }
        if (Accept(SqlKeyword.Overriding))
        {
            Advance();
            Accept(SqlKeyword.Value);
        }
        if (Is(SqlKeyword.Default) && PeekKw() == SqlKeyword.Values)
        {
            Advance();
            Advance();
        }
        else if (Kw is SqlKeyword.Select or SqlKeyword.Values or SqlKeyword.Table or SqlKeyword.With || Kind == SqlTokenKind.LeftParen)
        {
            ParseQueryOrDml();
        }
        else
        {
            Incomplete();
        }
        if (Is(SqlKeyword.On) && PeekKw() == SqlKeyword.Conflict)
        {
            ParseOnConflict();
        }
        if (Accept(SqlKeyword.Returning))
        {
            ScanExpression(Stops.Clauses);
        }
        return SqlStatementClass.Insert;
    }

    // ON CONFLICT [(target) [WHERE predicate] | ON CONSTRAINT name] DO {NOTHING | UPDATE SET ... [WHERE ...]}
    private void ParseOnConflict()
    {
        Advance();
        Advance();
        if (Kind == SqlTokenKind.LeftParen)
        {
            ScanParenthesized();
        }
        else if (Accept(SqlKeyword.On))
        {
            Accept(SqlKeyword.Constraint);
            TryParseName(out _, false);
        }
        if (Accept(SqlKeyword.Where))
        {
            ScanExpression(Stops.Clauses | Stops.Do);
        }
        if (!Accept(SqlKeyword.Do))
        {
            Incomplete();
            return;
        }
        if (Accept(SqlKeyword.Update))
        {
            Accept(SqlKeyword.Set);
            ScanExpression(Stops.Clauses);
            if (Accept(SqlKeyword.Where))
            {
                ScanExpression(Stops.Clauses);
            }
        }
        else if (!Accept(SqlKeyword.Nothing))
        {
            Incomplete();
        }
    }

    // UPDATE [ONLY] name [*] [[AS] alias] SET ... [FROM ...] [WHERE ... | WHERE CURRENT OF c] [RETURNING ...]
    private SqlStatementClass ParseUpdate()
    {
        Advance();
        _info.Effects |= SqlEffects.Update;
        if (!ParseRelation(write: true))
        {
            return SqlStatementClass.Update;
        }
        ParseAlias(forbidSet: true);
        if (!Accept(SqlKeyword.Set))
        {
            Incomplete();
            return SqlStatementClass.Update;
        }
        ScanExpression(Stops.Clauses);
        if (Accept(SqlKeyword.From))
        {
            ParseFromList();
        }
        if (Accept(SqlKeyword.Where))
        {
            ScanExpression(Stops.Clauses);
        }
        if (Accept(SqlKeyword.Returning))
        {
            ScanExpression(Stops.Clauses);
        }
        return SqlStatementClass.Update;
    }

    // DELETE FROM [ONLY] name [*] [[AS] alias] [USING ...] [WHERE ...] [RETURNING ...]
    private SqlStatementClass ParseDelete()
    {
        Advance();
        _info.Effects |= SqlEffects.Delete;
        if (!Accept(SqlKeyword.From))
        {
            Incomplete();
            return SqlStatementClass.Delete;
        }
        if (!ParseRelation(write: true))
        {
            return SqlStatementClass.Delete;
        }
        ParseAlias(forbidSet: false);
        if (Accept(SqlKeyword.Using))
        {
            ParseFromList();
        }
        if (Accept(SqlKeyword.Where))
        {
            ScanExpression(Stops.Clauses);
        }
        if (Accept(SqlKeyword.Returning))
        {
            ScanExpression(Stops.Clauses);
        }
        return SqlStatementClass.Delete;
    }

    // MERGE INTO [ONLY] name [*] [[AS] alias] USING source ON condition WHEN ... [RETURNING ...]
    private SqlStatementClass ParseMerge()
    {
        Advance();
        _info.Effects |= SqlEffects.Merge;
        if (!Accept(SqlKeyword.Into))
        {
            Incomplete();
            return SqlStatementClass.Merge;
        }
        if (!ParseRelation(write: true))
        {
            return SqlStatementClass.Merge;
        }
        ParseAlias(forbidSet: false);
        if (!Accept(SqlKeyword.Using))
        {
            Incomplete();
            return SqlStatementClass.Merge;
        }
        ParseTableRef();
        ParseJoins();
        while (Accept(SqlKeyword.When))
        {
            // [NOT] MATCHED [BY SOURCE|TARGET] [AND condition] THEN {UPDATE SET ... | DELETE | INSERT ... | DO NOTHING}
            ScanExpression(Stops.When | Stops.Returning);
        }
        if (Accept(SqlKeyword.Returning))
        {
            ScanExpression(Stops.Clauses);
        }
        return SqlStatementClass.Merge;
    }

    // COPY [BINARY] name [(columns)] {FROM|TO} [PROGRAM] {'file' | STDIN | STDOUT} [options]
    // COPY ( query ) TO [PROGRAM] {'file' | STDOUT} [options]
    private SqlStatementClass ParseCopy()
    {
        Advance();
        Accept(SqlKeyword.Binary);
        SqlStatementClass result;
        if (Kind == SqlTokenKind.LeftParen)
        {
            Advance();
            var inner = ResolveQuery(ParseQueryOrDml());
            Close();
            if (!Accept(SqlKeyword.To))
            {
                Incomplete();
            }
            // COPY (DELETE ... RETURNING *) TO STDOUT deletes: it is that write.
            result = inner is SqlStatementClass.Insert or SqlStatementClass.Update or SqlStatementClass.Delete or SqlStatementClass.Merge
                ? inner : SqlStatementClass.CopyOut;
            _info.Effects |= SqlEffects.CopyOut;
        }
        else
        {
            if (!TryParseName(out var parts, false))
            {
                _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
                ScanRest();
                return SqlStatementClass.Other;
            }
            var table = parts.AsObject();
            if (Kind == SqlTokenKind.LeftParen)
            {
                SkipBalanced();
            }
            if (Accept(SqlKeyword.From))
            {
                RecordWrite(table);
                result = SqlStatementClass.CopyIn;
            }
            else if (Accept(SqlKeyword.To))
            {
                RecordRead(table);
                result = SqlStatementClass.CopyOut;
            }
            else
            {
                _info.Flags |= SqlStatementFlags.TablesIncomplete | SqlStatementFlags.FunctionsIncomplete;
                ScanRest();
                return SqlStatementClass.Other;
            }
        }
        if (Accept(SqlKeyword.Program))
        {
            _info.Flags |= SqlStatementFlags.CopyProgram;
        }
        else if (Kind == SqlTokenKind.String)
        {
            _info.Flags |= SqlStatementFlags.CopyServerFile;
        }
        else if (Kw is not (SqlKeyword.Stdin or SqlKeyword.Stdout))
        {
            // Neither the client nor a file nor a program: not understood.
            _info.Flags |= SqlStatementFlags.CopyServerFile | SqlStatementFlags.TablesIncomplete;
        }
        ScanRest();
        return result;
    }
}

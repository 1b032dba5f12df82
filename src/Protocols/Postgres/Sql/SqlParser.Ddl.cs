namespace Appliance.Protocols.Postgres.Sql;

// DDL: the table-like objects (tables, views, materialized views, foreign tables, sequences, indexes,
// and triggers/policies/rules through their table) are named in the written list; DDL on any other
// object (schemas, functions, types, ...) cannot be expressed as tables and marks the lists incomplete.
internal ref partial struct SqlParser
{
    private SqlStatementClass ParseCreate()
    {
        Advance();
        if (Accept(SqlKeyword.Or))
        {
            Accept(SqlKeyword.Replace);
        }
        while (Kw is SqlKeyword.Temporary or SqlKeyword.Temp or SqlKeyword.Local or SqlKeyword.Global or SqlKeyword.Unlogged
            or SqlKeyword.Unique or SqlKeyword.Recursive or SqlKeyword.Trusted or SqlKeyword.Procedural)
        {
            Advance();
        }
        if (Is(SqlKeyword.Constraint) && PeekKw() == SqlKeyword.Trigger)
        {
            Advance();
        }
        switch (Kw)
        {
            case SqlKeyword.Table:
            case SqlKeyword.View:
            case SqlKeyword.Sequence:
                Advance();
                return DdlOnRelation(list: false);
            case SqlKeyword.Materialized:
                Advance();
                Accept(SqlKeyword.View);
                return DdlOnRelation(list: false);
            case SqlKeyword.Foreign:
                if (PeekKw() == SqlKeyword.Table)
                {
                    Advance();
                    Advance();
                    return DdlOnRelation(list: false);
                }
                return AdminRest(); // FOREIGN DATA WRAPPER
            case SqlKeyword.Index:
                Advance();
                return CreateIndex();
            case SqlKeyword.Trigger:
                Advance();
                return CreateTrigger();
            case SqlKeyword.Policy:
                Advance();
                return DdlOnTableOf();
            case SqlKeyword.Rule:
                Advance();
                return CreateRule();
            default:
                return IsAdminObject() ? AdminRest() : DdlOnOtherObject();
        }
    }

    private SqlStatementClass ParseAlter()
    {
        Advance();
        switch (Kw)
        {
            case SqlKeyword.Table:
            case SqlKeyword.Index:
            case SqlKeyword.View:
            case SqlKeyword.Sequence:
                Advance();
                return Is(SqlKeyword.All) ? DdlOnOtherObject() : DdlOnRelation(list: false);
            case SqlKeyword.Materialized:
                Advance();
                Accept(SqlKeyword.View);
                return Is(SqlKeyword.All) ? DdlOnOtherObject() : DdlOnRelation(list: false);
            case SqlKeyword.Foreign:
                if (PeekKw() == SqlKeyword.Table)
                {
                    Advance();
                    Advance();
                    return DdlOnRelation(list: false);
                }
                return AdminRest();
            case SqlKeyword.Trigger:
            case SqlKeyword.Policy:
            case SqlKeyword.Rule:
                Advance();
                return DdlOnTableOf();
            case SqlKeyword.System:
                return AdminRest();
            default:
                return IsAdminObject() ? AdminRest() : DdlOnOtherObject();
        }
    }

    private SqlStatementClass ParseDrop()
    {
        Advance();
        switch (Kw)
        {
            case SqlKeyword.Table:
            case SqlKeyword.Index:
            case SqlKeyword.View:
            case SqlKeyword.Sequence:
                Advance();
                return DdlOnRelation(list: true);
            case SqlKeyword.Materialized:
                Advance();
                Accept(SqlKeyword.View);
                return DdlOnRelation(list: true);
            case SqlKeyword.Foreign:
                if (PeekKw() == SqlKeyword.Table)
                {
                    Advance();
                    Advance();
                    return DdlOnRelation(list: true);
                }
                return AdminRest();
            case SqlKeyword.Trigger:
            case SqlKeyword.Policy:
            case SqlKeyword.Rule:
                Advance();
                return DdlOnTableOf();
            case SqlKeyword.Owned:
                return AdminRest();
            default:
                return IsAdminObject() ? AdminRest() : DdlOnOtherObject();
        }
    }

    // Cluster-wide objects and role management (Current is the object word after CREATE/ALTER/DROP).
    private bool IsAdminObject()
    {
        switch (Kw)
        {
            case SqlKeyword.Role:
            case SqlKeyword.User: // USER and USER MAPPING
            case SqlKeyword.Group:
            case SqlKeyword.Database:
            case SqlKeyword.Tablespace:
            case SqlKeyword.Extension:
            case SqlKeyword.Server:
            case SqlKeyword.Subscription:
            case SqlKeyword.Publication:
            case SqlKeyword.Language:
            case SqlKeyword.Access: // ACCESS METHOD
                return true;
            case SqlKeyword.Event:
                return PeekKw() == SqlKeyword.Trigger;
            default:
                return false;
        }
    }

    private SqlStatementClass AdminRest()
    {
        // Cluster-level objects are not tables; a table-scoped rule must not cover them.
        Incomplete();
        ScanRest();
        return SqlStatementClass.Admin;
    }

    private SqlStatementClass DdlOnOtherObject()
    {
        Incomplete();
        ScanDdlRest();
        return SqlStatementClass.Ddl;
    }

    // [CONCURRENTLY] [IF [NOT] EXISTS] [ONLY] name [*] (, ... when list) then the rest of the statement.
    private SqlStatementClass DdlOnRelation(bool list)
    {
        Accept(SqlKeyword.Concurrently);
        SkipIfExists();
        do
        {
            if (!ParseRelation(write: true, out var name))
            {
                break;
            }
            if (_ddlTarget.Name.IsEmpty)
            {
                _ddlTarget = name;
            }
        }
        while (list && AcceptComma());
        ScanDdlRest();
        return SqlStatementClass.Ddl;
    }

    private void SkipIfExists()
    {
        if (Is(SqlKeyword.If) && PeekKw() is SqlKeyword.Exists or SqlKeyword.Not)
        {
            Advance();
            Accept(SqlKeyword.Not);
            Accept(SqlKeyword.Exists);
        }
    }

    // CREATE [UNIQUE] INDEX [CONCURRENTLY] [[IF NOT EXISTS] name] ON [ONLY] table ...
    private SqlStatementClass CreateIndex()
    {
        Accept(SqlKeyword.Concurrently);
        SkipIfExists();
        if (!Is(SqlKeyword.On))
        {
            TryParseName(out _, false);
        }
        if (!Accept(SqlKeyword.On))
        {
            return DdlOnOtherObject();
        }
        Accept(SqlKeyword.Only);
        if (ParseRelation(write: true, out var table))
        {
            _ddlTarget = table;
        }
        if (Accept(SqlKeyword.Using))
        {
            Advance(); // the access method, not a call
        }
        ScanDdlRest();
        return SqlStatementClass.Ddl;
    }

    // CREATE [CONSTRAINT] TRIGGER name {BEFORE|AFTER|INSTEAD OF} events ON table [FROM referenced] ...
    private SqlStatementClass CreateTrigger()
    {
        while (!AtEnd && !Is(SqlKeyword.On))
        {
            Advance();
        }
        if (!Accept(SqlKeyword.On))
        {
            return DdlOnOtherObject();
        }
        _triggerFrom = true;
        var result = DdlOnRelation(list: false);
        _triggerFrom = false;
        return result;
    }

    // {CREATE|ALTER|DROP} {POLICY|TRIGGER|RULE} [IF EXISTS] name ON table ...
    private SqlStatementClass DdlOnTableOf()
    {
        SkipIfExists();
        TryParseName(out _, false);
        if (!Accept(SqlKeyword.On))
        {
            return DdlOnOtherObject();
        }
        return DdlOnRelation(list: false);
    }

    // CREATE [OR REPLACE] RULE name AS ON event TO table [WHERE ...] DO [ALSO|INSTEAD] actions:
    // the actions run later, on other statements, so the lists cannot be complete.
    private SqlStatementClass CreateRule()
    {
        while (!AtEnd && !Is(SqlKeyword.To))
        {
            Advance();
        }
        Incomplete();
        if (!Accept(SqlKeyword.To))
        {
            return DdlOnOtherObject();
        }
        return DdlOnRelation(list: false);
    }

    // COMMENT ON / SECURITY LABEL ... ON: object kind and name.
    private SqlStatementClass ParseObjectTarget()
    {
        switch (Kw)
        {
            case SqlKeyword.Table:
            case SqlKeyword.View:
            case SqlKeyword.Index:
            case SqlKeyword.Sequence:
                Advance();
                return DdlOnRelation(list: false);
            case SqlKeyword.Materialized:
                Advance();
                Accept(SqlKeyword.View);
                return DdlOnRelation(list: false);
            case SqlKeyword.Foreign when PeekKw() == SqlKeyword.Table:
                Advance();
                Advance();
                return DdlOnRelation(list: false);
            case SqlKeyword.Column:
                Advance();
                if (TryParseName(out var parts, false) && parts.Count is 2 or 3)
                {
                    RecordWrite(parts.AllButLast());
                }
                else
                {
                    Incomplete();
                }
                ScanDdlRest();
                return SqlStatementClass.Ddl;
            case SqlKeyword.Trigger:
            case SqlKeyword.Policy:
            case SqlKeyword.Rule:
            case SqlKeyword.Constraint:
                Advance();
                TryParseName(out _, false);
                if (Accept(SqlKeyword.On) && !Is(SqlKeyword.Domain))
                {
                    return DdlOnRelation(list: false);
                }
                return DdlOnOtherObject();
            default:
                return DdlOnOtherObject();
        }
    }

    // SECURITY LABEL [FOR provider] ON object IS 'label'
    private SqlStatementClass ParseSecurityLabel()
    {
        Advance();
        Accept(SqlKeyword.Label);
        if (Accept(SqlKeyword.For))
        {
            Advance();
        }
        Accept(SqlKeyword.On);
        return ParseObjectTarget();
    }

    // GRANT/REVOKE privileges ON objects TO/FROM roles (DDL on the objects), or GRANT/REVOKE roles
    // TO/FROM roles (role membership: Admin).
    private SqlStatementClass ParseGrant()
    {
        var end = Is(SqlKeyword.Grant) ? SqlKeyword.To : SqlKeyword.From;
        Advance();
        var copy = _r;
        bool onObjects = false;
        while (!copy.AtEnd)
        {
            if (copy.Current.Kind == SqlTokenKind.LeftParen)
            {
                SkipBalanced(ref copy);
                continue;
            }
            var keyword = copy.Current.Keyword;
            if (keyword == SqlKeyword.On)
            {
                onObjects = true;
                break;
            }
            if (keyword == end)
            {
                break;
            }
            copy.Advance();
        }
        if (!onObjects)
        {
            return AdminRest();
        }
        while (!AtEnd && !Is(SqlKeyword.On))
        {
            if (Kind == SqlTokenKind.LeftParen)
            {
                SkipBalanced(); // column privileges
            }
            else
            {
                Advance();
            }
        }
        Advance();
        switch (Kw)
        {
            case SqlKeyword.Table:
            case SqlKeyword.Sequence:
                Advance();
                break;
            case SqlKeyword.All:
            case SqlKeyword.Function:
            case SqlKeyword.Procedure:
            case SqlKeyword.Routine:
            case SqlKeyword.Schema:
            case SqlKeyword.Database:
            case SqlKeyword.Domain:
            case SqlKeyword.Foreign:
            case SqlKeyword.Language:
            case SqlKeyword.Large:
            case SqlKeyword.Tablespace:
            case SqlKeyword.Type:
            case SqlKeyword.Parameter:
                Incomplete();
                ScanRest();
                return SqlStatementClass.Ddl;
        }
        while (ParseRelation(write: true) && AcceptComma())
        {
        }
        ScanRest();
        return SqlStatementClass.Ddl;
    }

    private void ScanDdlRest()
    {
        _ddl = true;
        ScanRest();
        _ddl = false;
    }

    // Words inside DDL that name other tables: REFERENCES t, INHERITS (t, ...), INHERIT t, (LIKE t ...),
    // PARTITION OF t, ATTACH/DETACH PARTITION t, OWNED BY t.column, FROM t (triggers), RENAME TO n,
    // SET SCHEMA s; CASCADE reaches objects not named at all.
    private bool ScanDdlWord(SqlKeyword keyword)
    {
        NameParts parts;
        switch (keyword)
        {
            case SqlKeyword.References:
            case SqlKeyword.Inherit:
                Advance();
                if (TryParseName(out parts, false))
                {
                    RecordRead(parts.AsObject());
                }
                return true;
            case SqlKeyword.Inherits:
                Advance();
                if (Kind == SqlTokenKind.LeftParen)
                {
                    Advance();
                    while (TryParseName(out parts, false))
                    {
                        RecordRead(parts.AsObject());
                        if (!AcceptComma())
                        {
                            break;
                        }
                    }
                    Close();
                }
                return true;
            case SqlKeyword.Like:
                if (_r.Previous.Kind is SqlTokenKind.LeftParen or SqlTokenKind.Comma)
                {
                    Advance();
                    if (TryParseName(out parts, false))
                    {
                        RecordRead(parts.AsObject());
                    }
                    return true;
                }
                return false;
            case SqlKeyword.Partition:
                if (PeekKw() != SqlKeyword.Of)
                {
                    return false;
                }
                Advance();
                Advance();
                if (TryParseName(out parts, false))
                {
                    RecordRead(parts.AsObject());
                }
                return true;
            case SqlKeyword.Attach:
            case SqlKeyword.Detach:
                if (PeekKw() != SqlKeyword.Partition)
                {
                    return false;
                }
                Advance();
                Advance();
                if (TryParseName(out parts, false))
                {
                    RecordWrite(parts.AsObject());
                }
                return true;
            case SqlKeyword.Owned:
                if (PeekKw() != SqlKeyword.By)
                {
                    return false;
                }
                Advance();
                Advance();
                if (!Accept(SqlKeyword.NoneKeyword) && TryParseName(out parts, false) && parts.Count > 1)
                {
                    RecordRead(parts.AllButLast());
                }
                return true;
            case SqlKeyword.From:
                if (!_triggerFrom)
                {
                    return false;
                }
                Advance();
                if (TryParseName(out parts, false))
                {
                    RecordRead(parts.AsObject());
                }
                return true;
            case SqlKeyword.Rename:
                if (PeekKw() != SqlKeyword.To || _ddlTarget.Name.IsEmpty)
                {
                    return false;
                }
                Advance();
                Advance();
                if (IsNameToken(_r.Current, false))
                {
                    RecordWrite(new SqlObjectName(_ddlTarget.Schema, SqlName.From(_r.Current)));
                    Advance();
                }
                return true;
            case SqlKeyword.Set:
                if (PeekKw() != SqlKeyword.Schema || _ddlTarget.Name.IsEmpty)
                {
                    return false;
                }
                Advance();
                Advance();
                if (IsNameToken(_r.Current, false))
                {
                    RecordWrite(new SqlObjectName(SqlName.From(_r.Current), _ddlTarget.Name));
                    Advance();
                }
                return true;
            case SqlKeyword.Exclude:
                // EXCLUDE USING gist (...): an access method, not a call.
                if (PeekKw() != SqlKeyword.Using)
                {
                    return false;
                }
                Advance();
                Advance();
                if (IsNameToken(_r.Current, false) && PeekKind() == SqlTokenKind.LeftParen)
                {
                    Advance();
                }
                return true;
            case SqlKeyword.Cascade:
                _info.Flags |= SqlStatementFlags.Cascade | SqlStatementFlags.TablesIncomplete;
                Advance();
                return true;
            default:
                return false;
        }
    }
}

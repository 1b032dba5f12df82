namespace Appliance.Protocols.Postgres.Sql;

/// <summary>
/// Every class of action a statement performs, one bit per <see cref="SqlStatementClass"/>
/// (bit <c>1 &lt;&lt; (int)class</c>). A statement is allowed only if every bit is: the INSERT of
/// <c>WITH d AS (DELETE ...) INSERT ...</c> carries Insert and Delete; any statement that reads a table
/// carries Select (so <c>INSERT ... SELECT FROM t</c>, <c>COPY t TO</c> and <c>CREATE TABLE AS</c> also need
/// <c>select</c>); a locking clause adds Lock.
/// </summary>
[Flags]
public enum SqlEffects : uint
{
    None = 0,
    Other = 1u << (int)SqlStatementClass.Other,
    Select = 1u << (int)SqlStatementClass.Select,
    Insert = 1u << (int)SqlStatementClass.Insert,
    Update = 1u << (int)SqlStatementClass.Update,
    Delete = 1u << (int)SqlStatementClass.Delete,
    Merge = 1u << (int)SqlStatementClass.Merge,
    Ddl = 1u << (int)SqlStatementClass.Ddl,
    CopyOut = 1u << (int)SqlStatementClass.CopyOut,
    CopyIn = 1u << (int)SqlStatementClass.CopyIn,
    Transaction = 1u << (int)SqlStatementClass.Transaction,
    Session = 1u << (int)SqlStatementClass.Session,
    Call = 1u << (int)SqlStatementClass.Call,
    Do = 1u << (int)SqlStatementClass.Do,
    Lock = 1u << (int)SqlStatementClass.Lock,
    Maintenance = 1u << (int)SqlStatementClass.Maintenance,
    Privilege = 1u << (int)SqlStatementClass.Privilege,
    Admin = 1u << (int)SqlStatementClass.Admin,
    Prepare = 1u << (int)SqlStatementClass.Prepare,
    Execute = 1u << (int)SqlStatementClass.Execute,
    Explain = 1u << (int)SqlStatementClass.Explain,
    Fetch = 1u << (int)SqlStatementClass.Fetch,
    Empty = 1u << (int)SqlStatementClass.Empty,

    /// <summary>Any of the row-writing classes.</summary>
    Writes = Insert | Update | Delete | Merge,
}

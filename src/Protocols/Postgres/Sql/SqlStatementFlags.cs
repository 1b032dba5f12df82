namespace Appliance.Protocols.Postgres.Sql;

/// <summary>Facts about a statement beyond its class.</summary>
[Flags]
public enum SqlStatementFlags : uint
{
    None = 0,

    /// <summary>The table lists may miss tables the statement touches (unparsed syntax, DDL on non-table objects, CASCADE, whole-database maintenance, DO bodies...). A rule with table patterns must not match.</summary>
    TablesIncomplete = 1 << 0,

    /// <summary>The function list may miss functions the statement calls (DO bodies, names with Unicode escapes, too deep nesting). A rule with function restrictions must not match.</summary>
    FunctionsIncomplete = 1 << 1,

    /// <summary>More than <see cref="SqlStatementInfo.MaxReferences"/> references or nesting deeper than the parser follows; the lists are incomplete.</summary>
    TooComplex = 1 << 2,

    /// <summary>COPY ... FROM/TO PROGRAM: runs a shell command on the database server.</summary>
    CopyProgram = 1 << 3,

    /// <summary>COPY ... FROM/TO 'file': reads or writes a file on the database server.</summary>
    CopyServerFile = 1 << 4,

    /// <summary>DECLARE ... CURSOR FOR query: the class and tables are the query's.</summary>
    CursorDeclaration = 1 << 5,

    /// <summary>Changes search_path (SET/RESET search_path, SET SCHEMA, RESET ALL, DISCARD ALL): the gateway must track it.</summary>
    SetsSearchPath = 1 << 6,

    /// <summary>Changes how text is lexed (standard_conforming_strings, client_encoding, SET NAMES, RESET ALL, DISCARD ALL).</summary>
    SetsLexerSetting = 1 << 7,

    /// <summary>EXPLAIN ANALYZE: the inner statement runs; class, effects and tables are its own.</summary>
    ExplainAnalyze = 1 << 8,

    /// <summary>CASCADE on DROP/TRUNCATE/ALTER: other objects may be affected; implies <see cref="TablesIncomplete"/>.</summary>
    Cascade = 1 << 9,

    /// <summary>A CTE holds INSERT/UPDATE/DELETE/MERGE.</summary>
    WritingCte = 1 << 10,

    /// <summary>SELECT ... INTO new_table (class Ddl; the new table is in the written list).</summary>
    SelectInto = 1 << 11,

    /// <summary>Runs the prepared statement named by <see cref="SqlStatementInfo.Name"/> (EXECUTE, EXPLAIN ANALYZE EXECUTE, CREATE TABLE AS EXECUTE).</summary>
    ExecutesPrepared = 1 << 12,

    /// <summary>DEALLOCATE or DISCARD ALL: prepared statements are dropped (the name, or all with <see cref="AllNames"/>).</summary>
    Deallocate = 1 << 13,

    /// <summary>The statement names ALL rather than one prepared statement or cursor (DEALLOCATE ALL, CLOSE ALL, DISCARD ALL).</summary>
    AllNames = 1 << 14,
}

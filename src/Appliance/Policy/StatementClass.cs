namespace Appliance.Policy;

/// <summary>What a statement does, as rules name it (the config's snake_case names).</summary>
public enum StatementClass : byte
{
    Select,
    Insert,
    Update,
    Delete,
    Merge,
    Ddl,
    CopyOut,
    CopyIn,
    /// <summary>COPY to or from a program on the database server.</summary>
    CopyProgram,
    /// <summary>COPY to or from a file on the database server.</summary>
    CopyFile,
    Transaction,
    Session,
    /// <summary>SELECT … FOR UPDATE/SHARE and LOCK TABLE.</summary>
    Lock,
    Maintenance,
    /// <summary>SET ROLE, SET SESSION AUTHORIZATION and their resets.</summary>
    Privilege,
    /// <summary>ALTER SYSTEM, LOAD, role management.</summary>
    Admin,
    /// <summary>EXPLAIN without ANALYZE (plans, does not run).</summary>
    Explain,
    Call,
    Do,
    Other,
}

public static class StatementClasses
{
    private static readonly string[] s_names =
        ["select", "insert", "update", "delete", "merge", "ddl", "copy_out", "copy_in", "copy_program", "copy_file",
         "transaction", "session", "lock", "maintenance", "privilege", "admin", "explain", "call", "do", "other"];

    /// <summary>Classes that <c>all</c> does not include: they reach outside the database and must be named.</summary>
    public const uint ExplicitOnly = (1u << (int)StatementClass.CopyProgram) | (1u << (int)StatementClass.CopyFile);

    public static string Name(StatementClass c) => s_names[(int)c];

    /// <summary>The bit mask for config class names; <c>all</c> is every class but <see cref="ExplicitOnly"/>.</summary>
    public static uint Mask(IEnumerable<string> names)
    {
        uint mask = 0;
        foreach (var name in names)
        {
            if (name == "all")
            {
                mask |= ((1u << s_names.Length) - 1) & ~ExplicitOnly;
                continue;
            }
            int index = Array.IndexOf(s_names, name);
            if (index < 0)
            {
                throw new ArgumentException($"unknown statement class '{name}'");
            }
            mask |= 1u << index;
        }
        return mask;
    }
}

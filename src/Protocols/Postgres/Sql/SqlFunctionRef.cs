namespace Appliance.Protocols.Postgres.Sql;

/// <summary>A function the statement may invoke.</summary>
public readonly struct SqlFunctionRef
{
    internal SqlFunctionRef(SqlObjectName name, bool attributeNotation)
    {
        Name = name;
        IsAttributeNotation = attributeNotation;
    }

    /// <summary>The function name, schema-qualified when written so.</summary>
    public SqlObjectName Name { get; }

    /// <summary>
    /// Written as a field selection, <c>(expr).name</c> or <c>$1.name</c>, which the server runs as
    /// <c>name(expr)</c> when no such field exists (<c>('/etc/passwd'::text).pg_read_file</c>). It may be
    /// a plain field; deny lists should match it all the same.
    /// </summary>
    public bool IsAttributeNotation { get; }
}

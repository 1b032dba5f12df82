namespace Appliance.Protocols.Postgres.Sql;

/// <summary>
/// A table or function reference: schema (empty when unqualified; the caller resolves search_path)
/// and name, as ranges of the statement text. A catalog part (<c>db.schema.table</c>) is dropped: the
/// server refuses any catalog but the current database.
/// </summary>
public readonly struct SqlObjectName
{
    /// <summary>Bytes <see cref="TryFormat"/> may need: two quoted parts with every byte doubled, and a dot.</summary>
    public const int MaxFormattedLength = (2 * SqlName.MaxLength + 2) * 2 + 1;

    internal SqlObjectName(SqlName schema, SqlName name)
    {
        Schema = schema;
        Name = name;
    }

    /// <summary>The schema as written; <see cref="SqlName.IsEmpty"/> when unqualified.</summary>
    public SqlName Schema { get; }

    /// <summary>The object's own name.</summary>
    public SqlName Name { get; }

    /// <summary>True when a schema was written.</summary>
    public bool IsQualified => !Schema.IsEmpty;

    /// <summary>
    /// Writes <c>schema.name</c> (or <c>name</c> when unqualified) from the normalised parts, for glob
    /// matching against lower-case patterns like <c>public.*</c>. A part holding <c>.</c>, <c>"</c>, <c>*</c>
    /// or <c>?</c> is written in double quotes with <c>"</c> doubled, so <c>"a.b"</c> can never pass for
    /// schema <c>a</c>, table <c>b</c>. False when <paramref name="destination"/> is too small
    /// (<see cref="MaxFormattedLength"/> always suffices).
    /// </summary>
    public bool TryFormat(ReadOnlySpan<byte> statement, Span<byte> destination, out int written)
    {
        written = 0;
        if (IsQualified)
        {
            if (!TryWritePart(statement, Schema, destination, ref written) || written == destination.Length)
            {
                return false;
            }
            destination[written++] = (byte)'.';
        }
        return TryWritePart(statement, Name, destination, ref written);
    }

    private static bool TryWritePart(ReadOnlySpan<byte> statement, SqlName part, Span<byte> destination, ref int written)
    {
        Span<byte> buffer = stackalloc byte[SqlName.MaxLength];
        var name = buffer[..part.Normalize(statement, buffer)];
        if (name.IndexOfAny(".\"*?"u8) < 0)
        {
            if (destination.Length - written < name.Length)
            {
                return false;
            }
            name.CopyTo(destination[written..]);
            written += name.Length;
            return true;
        }
        if (destination.Length - written < 2 + name.Length + name.Count((byte)'"'))
        {
            return false;
        }
        destination[written++] = (byte)'"';
        foreach (byte b in name)
        {
            destination[written++] = b;
            if (b == '"')
            {
                destination[written++] = b;
            }
        }
        destination[written++] = (byte)'"';
        return true;
    }
}

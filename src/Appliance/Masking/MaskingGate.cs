using Appliance.Protocols.Postgres.Sql;

namespace Appliance.Masking;

/// <summary>What a result of the statements just decided needs from the masker.</summary>
/// <param name="Derived">For result columns with no source table (expressions): the mask, when the statement could read a masked column.</param>
/// <param name="Copy">For COPY of a masked table TO STDOUT: its columns and format.</param>
/// <param name="Scrub">Errors replace their text: a cast error would quote the value.</param>
/// <remarks>It holds no catalog snapshot: results are planned with the newest one, so a waiting statement pins none.</remarks>
public sealed record MaskContext(SessionMasks Masks, MaskStrategy? Derived, CopyMask? Copy, bool Scrub)
{
    public MaskContext Merge(MaskContext other) => new(other.Masks,
        Derived is { } d ? (other.Derived is { } o ? d.Strongest(o) : d) : other.Derived,
        other.Copy ?? Copy, Scrub || other.Scrub);
}

/// <summary>COPY TO STDOUT of a masked table: which fields of each row to mask.</summary>
public sealed record CopyMask(CopyFormat Format, string[] Columns, MaskStrategy?[] Strategies);

/// <summary>
/// The masking half of a statement decision, for a session with masks: refuses what would let a masked value
/// escape unmasked (a dependent view, a function the gateway cannot see into, a write that copies masked
/// values, COPY in a form it cannot mask) and works out what the results need.
/// </summary>
internal sealed class MaskingGate(SessionMasks masks, CatalogSnapshot snapshot)
{
    // Builtins whose effect outlives the statement: a masked value passed to them would leave unmasked.
    private static readonly HashSet<string> s_sinks = new(StringComparer.Ordinal)
    {
        "set_config", "pg_notify", "pg_logical_emit_message", "lo_from_bytea", "lo_put", "lo_import", "lo_export",
        "pg_file_write", "dblink", "dblink_exec",
    };

    // Builtins that run a query or read a table named in a string, where the classifier cannot see it.
    private static readonly HashSet<string> s_hiddenReaders = new(StringComparer.Ordinal)
    {
        "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "table_to_xml", "table_to_xmlschema",
        "table_to_xml_and_xmlschema", "cursor_to_xml", "cursor_to_xmlschema", "schema_to_xml", "schema_to_xmlschema",
        "schema_to_xml_and_xmlschema", "database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema", "ts_stat",
    };

    // Catalog views that show sample values of columns (most common values, histograms).
    private static readonly HashSet<string> s_statistics = new(StringComparer.Ordinal)
    {
        "pg_catalog.pg_stats", "pg_catalog.pg_stats_ext", "pg_catalog.pg_stats_ext_exprs", "pg_catalog.pg_statistic", "pg_catalog.pg_statistic_ext_data",
    };

    public SessionMasks Masks => masks;
    public CatalogSnapshot Snapshot => snapshot;

    /// <param name="read">Tables read, as schema.table (unqualified resolved).</param>
    /// <param name="written">Tables written, likewise.</param>
    /// <returns>A refusal message, or null with <paramref name="context"/> set.</returns>
    public string? Check(ReadOnlySpan<byte> statement, SqlLexerOptions options, SqlStatementInfo info, IReadOnlyList<string> read, IReadOnlyList<string> written,
        IReadOnlyList<(string? Schema, string Name, bool Attribute)> functions, out MaskContext context)
    {
        context = new MaskContext(masks, null, null, false);
        var cls = info.Class == SqlStatementClass.Prepare ? info.InnerClass : info.Class;
        if (cls is SqlStatementClass.Do)
        {
            return "statement refused: a DO block could read masked columns where the gateway cannot see; it is not allowed while columns are masked for this principal";
        }
        foreach (var f in functions)
        {
            if (cls == SqlStatementClass.CopyOut && f.Schema is null && f.Name is "stdout" or "stdin")
            {
                continue; // COPY t TO STDOUT (options) reads like a call to the classifier
            }
            // x.name may be a field rather than a call: only a function someone defined counts then.
            if (f.Attribute ? snapshot.DefinedByUser(f.Name) : snapshot.IsUserFunction(f.Schema, f.Name))
            {
                return $"statement refused: it calls {(f.Schema is null ? "" : f.Schema + ".")}{f.Name}, a function the gateway cannot see into, and columns are masked for this principal "
                    + "(a function could return or copy masked values)";
            }
        }
        foreach (var f in functions)
        {
            if (s_hiddenReaders.Contains(f.Name))
            {
                return $"statement refused: {f.Name} reads a query or table named in a string, which the gateway cannot mask; columns are masked for this principal";
            }
        }
        foreach (var name in read)
        {
            if (s_statistics.Contains(name))
            {
                return $"statement refused: {name} shows sample values of columns, masked ones included; columns are masked for this principal";
            }
        }
        if (cls is SqlStatementClass.Call)
        {
            return "statement refused: procedures could read masked columns where the gateway cannot see; CALL is not allowed while columns are masked for this principal";
        }

        foreach (var name in read)
        {
            if (snapshot.ViewsByName.TryGetValue(name, out var view) && AppliesAny(view.Masked) is { } column)
            {
                return $"statement refused: {name} is a view over masked column {column}; query the table itself so the gateway can mask the column";
            }
        }

        bool readsMasked = info.TablesIncomplete || read.Any(IsMaskedRelation);
        bool touchesMasked = readsMasked || written.Any(IsMaskedRelation);
        bool resultFromElsewhere = cls is SqlStatementClass.Fetch or SqlStatementClass.Execute || (info.Flags & SqlStatementFlags.ExecutesPrepared) != 0;
        if (!touchesMasked)
        {
            context = context with { Derived = resultFromElsewhere ? masks.Derived : null, Scrub = resultFromElsewhere };
            return null;
        }

        var tokens = StatementTokens.Read(statement, options);
        if (tokens is null)
        {
            return "statement refused: the gateway cannot read it";
        }
        var relations = new HashSet<string>(snapshot.RelationBareNames, StringComparer.Ordinal);
        var mentions = MaskedMentions.Find(tokens, masks.ColumnNames, relations);
        bool valueMentions = (mentions & (Mentions.Column | Mentions.WholeRow)) != 0;
        // json_agg(t.*) builds a value from every column: a star counts for computed results.
        bool derived = valueMentions || (mentions & Mentions.Star) != 0;

        if (valueMentions && functions.Any(f => s_sinks.Contains(f.Name)))
        {
            return "statement refused: it passes masked columns to a function whose effect outlives the statement (set_config, pg_notify, ...)";
        }

        // SELECT … FOR UPDATE is class lock: it returns rows like any select.
        bool reads = cls is SqlStatementClass.Select or SqlStatementClass.Lock or SqlStatementClass.Fetch or SqlStatementClass.Execute or SqlStatementClass.Explain
            or SqlStatementClass.Transaction or SqlStatementClass.Session
            && (info.Flags & (SqlStatementFlags.SelectInto | SqlStatementFlags.WritingCte | SqlStatementFlags.ExplainAnalyze)) == 0;
        if (cls == SqlStatementClass.CopyOut)
        {
            return CheckCopy(tokens, info, read, out context);
        }
        if (!reads && mentions != Mentions.None)
        {
            return "statement refused: it writes or returns values of masked columns (" + string.Join(", ", masks.Columns) + "), "
                + "which would leave the gateway unmasked; name only unmasked columns";
        }
        context = context with { Derived = derived || resultFromElsewhere ? masks.Derived : null, Scrub = derived || resultFromElsewhere };
        return null;
    }

    /// <summary>True when the relation holds a column masked for this session.</summary>
    private bool IsMaskedRelation(string name)
        => snapshot.RelationsByName.TryGetValue(name, out var relation) && relation.Masked.Values.Any(c => masks.TryGet(c, out _));

    private string? AppliesAny(string[] columns) => columns.FirstOrDefault(c => masks.TryGet(c, out _));

    private string? CheckCopy(List<Token> tokens, SqlStatementInfo info, IReadOnlyList<string> read, out MaskContext context)
    {
        context = new MaskContext(masks, null, null, true);
        if ((info.Flags & (SqlStatementFlags.CopyProgram | SqlStatementFlags.CopyServerFile)) != 0)
        {
            return "statement refused: COPY of a masked table to a file or program would bypass masking";
        }
        // COPY table [(columns)] TO STDOUT [options]: anything else (COPY (query) TO) is refused.
        int i = 1;
        if (i < tokens.Count && tokens[i].Kind == SqlTokenKind.LeftParen)
        {
            return "statement refused: COPY (query) TO reads masked columns; use COPY table TO STDOUT or SELECT, which the gateway can mask";
        }
        if (read.Count != 1 || !snapshot.RelationsByName.TryGetValue(read[0], out var relation))
        {
            return "statement refused: the gateway cannot tell which masked table this COPY reads";
        }
        while (i < tokens.Count && tokens[i].Kind is SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier or SqlTokenKind.Dot && !tokens[i].Is("to")) i++;
        var columns = new List<string>();
        if (i < tokens.Count && tokens[i].Kind == SqlTokenKind.LeftParen)
        {
            for (i++; i < tokens.Count && tokens[i].Kind != SqlTokenKind.RightParen; i++)
            {
                if (tokens[i].Kind is SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier) columns.Add(tokens[i].Text);
            }
            i++;
        }
        else
        {
            columns.AddRange(relation.Columns.Where(c => c.Length > 0));
        }
        if (!(i + 1 < tokens.Count && tokens[i].Is("to") && tokens[i + 1].Is("stdout")))
        {
            return "statement refused: COPY of a masked table is allowed only TO STDOUT";
        }
        if (ReadCopyFormat(tokens, i + 2, out var format) is { } error)
        {
            return error;
        }
        var strategies = columns.Select(c => relation.MaskedColumn(c) is { } configured && masks.TryGet(configured, out var s) ? s : (MaskStrategy?)null).ToArray();
        context = context with { Copy = new CopyMask(format!, [.. columns], strategies) };
        return null;
    }

    private static string? ReadCopyFormat(List<Token> tokens, int i, out CopyFormat? format)
    {
        format = null;
        bool csv = false, header = false;
        byte? delimiter = null;
        byte[]? nullText = null;
        for (; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t.Kind is SqlTokenKind.LeftParen or SqlTokenKind.RightParen or SqlTokenKind.Comma || t.Is("with") || t.Is("as"))
            {
                continue;
            }
            if (t.Kind != SqlTokenKind.Identifier)
            {
                return "statement refused: the gateway cannot read this COPY's options";
            }
            switch (t.Text)
            {
                case "format":
                    var value = i + 1 < tokens.Count ? tokens[++i].Text.ToLowerInvariant() : "";
                    if (value == "binary") return BinaryRefusal;
                    if (value is not ("csv" or "text")) return "statement refused: unknown COPY format";
                    csv = value == "csv";
                    break;
                case "csv": csv = true; break;
                case "text": break;
                case "binary": return BinaryRefusal;
                case "header":
                    header = true;
                    if (i + 1 < tokens.Count && tokens[i + 1].Kind == SqlTokenKind.Identifier && tokens[i + 1].Text is "true" or "on" or "false" or "off" or "match")
                    {
                        header = tokens[++i].Text is "true" or "on";
                    }
                    break;
                case "delimiter" or "null":
                    int v = i + 1 < tokens.Count && tokens[i + 1].Is("as") ? i + 2 : i + 1;
                    if (v >= tokens.Count || StringValue(tokens[v]) is not { } text)
                    {
                        return "statement refused: the gateway cannot read this COPY's options";
                    }
                    if (t.Text == "delimiter")
                    {
                        if (text.Length != 1 || text[0] is (byte)'*' or (byte)'"' or (byte)'\\') return "statement refused: COPY of a masked table supports only a plain one-byte delimiter";
                        delimiter = text[0];
                    }
                    else
                    {
                        nullText = text;
                    }
                    i = v;
                    break;
                default:
                    return $"statement refused: COPY option {t.Text} is not supported on a masked table (use FORMAT text or csv, HEADER, DELIMITER, NULL)";
            }
        }
        var defaults = csv ? CopyFormat.CsvDefault : CopyFormat.Text;
        format = new CopyFormat(csv, delimiter ?? defaults.Delimiter, nullText ?? defaults.Null, header);
        return null;
    }

    private const string BinaryRefusal = "statement refused: binary COPY of a masked table cannot be masked; use FORMAT text or csv";

    private static byte[]? StringValue(Token t)
        => t.Kind == SqlTokenKind.String && t.Text.Length >= 2 && t.Text[0] == '\'' && t.Text[^1] == '\'' && !t.Text[1..^1].Contains('\'')
            ? System.Text.Encoding.UTF8.GetBytes(t.Text[1..^1]) : null;
}

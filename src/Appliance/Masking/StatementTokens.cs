using System.Buffers;
using System.Text;
using Appliance.Protocols.Postgres.Sql;

namespace Appliance.Masking;

/// <summary>One token of a statement, identifiers normalised (unquoted folded to lower case).</summary>
internal readonly record struct Token(SqlTokenKind Kind, string Text, bool UnicodeQuoted)
{
    public bool Is(string word) => Kind == SqlTokenKind.Identifier && Text == word;
}

/// <summary>A statement as tokens, for the masking checks that run only on statements touching masked tables.</summary>
internal static class StatementTokens
{
    /// <summary>Null when the text does not lex (the classifier has refused it already).</summary>
    public static List<Token>? Read(ReadOnlySpan<byte> statement, SqlLexerOptions options)
    {
        var tokens = new List<Token>();
        var lexer = new SqlLexer(statement, options);
        while (true)
        {
            if (lexer.Read(out var token, out _) != OperationStatus.Done) return null;
            if (token.Kind == SqlTokenKind.End) return tokens;
            var raw = token.Slice(statement);
            string text = token.Kind switch
            {
                SqlTokenKind.Identifier => Encoding.UTF8.GetString(raw).ToLowerInvariant(),
                SqlTokenKind.QuotedIdentifier => Unquote(raw),
                _ => Encoding.UTF8.GetString(raw),
            };
            tokens.Add(new Token(token.Kind, text, (token.Flags & SqlTokenFlags.UnicodeEscapes) != 0));
        }
    }

    private static string Unquote(ReadOnlySpan<byte> raw)
    {
        int open = raw.IndexOf((byte)'"');
        return Encoding.UTF8.GetString(raw[(open + 1)..^1]).Replace("\"\"", "\"", StringComparison.Ordinal);
    }
}

/// <summary>What a statement's text says about masked columns.</summary>
[Flags]
public enum Mentions : byte
{
    None = 0,
    /// <summary>A masked column's name appears (or an identifier the gateway cannot read, U&amp;"...").</summary>
    Column = 1,
    /// <summary>A masked table (or its alias) is used as a value: <c>row_to_json(t)</c>, <c>t::text</c>, <c>select t from t</c>.</summary>
    WholeRow = 2,
    /// <summary><c>*</c> or <c>t.*</c> outside <c>f(*)</c>.</summary>
    Star = 4,
}

/// <summary>
/// Finds references to masked columns in statement text: column names, whole-row uses of masked tables, and
/// star expansions. Errs towards finding one: an alias or a table name in an unexpected place counts.
/// </summary>
internal static class MaskedMentions
{
    // Words that can follow a table reference and are not its alias.
    private static readonly HashSet<string> s_notAlias = new(StringComparer.Ordinal)
    {
        "where", "join", "inner", "left", "right", "full", "cross", "natural", "on", "using", "group", "order", "limit", "offset",
        "union", "except", "intersect", "window", "having", "for", "set", "returning", "tablesample", "values", "select", "fetch",
        "to", "from", "default", "with", "as", "lateral", "do", "when", "then",
    };

    // Words after which a table name is a table reference, not a value.
    private static readonly HashSet<string> s_tablePosition = new(StringComparer.Ordinal)
    {
        "from", "join", "only", "update", "into", "table", "copy", "truncate", "lock", "view", "exists",
    };

    // Words that end a FROM list at their depth.
    private static readonly HashSet<string> s_endFrom = new(StringComparer.Ordinal)
    {
        "where", "group", "having", "order", "limit", "offset", "union", "intersect", "except", "window", "returning", "on",
        "using", "set", "values", "select", "for", "fetch",
    };

    public static Mentions Find(List<Token> tokens, IReadOnlySet<string> columns, IReadOnlySet<string> tables)
    {
        var found = Mentions.None;
        var aliases = new HashSet<string>(StringComparer.Ordinal);
        var definitions = new HashSet<int>();
        var references = new HashSet<int>();
        var fromAtDepth = new Stack<bool>();
        bool inFrom = false;

        // Pass 1: table references, their aliases, and star and column mentions.
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            var previous = i > 0 ? tokens[i - 1] : default;
            var next = i + 1 < tokens.Count ? tokens[i + 1] : default;
            switch (t.Kind)
            {
                case SqlTokenKind.LeftParen:
                    fromAtDepth.Push(inFrom);
                    inFrom = false;
                    continue;
                case SqlTokenKind.RightParen:
                    inFrom = fromAtDepth.Count > 0 && fromAtDepth.Pop();
                    continue;
                case SqlTokenKind.Operator when t.Text == "*" && previous.Kind != SqlTokenKind.LeftParen:
                    found |= Mentions.Star;
                    continue;
                case SqlTokenKind.QuotedIdentifier when t.UnicodeQuoted:
                    found |= Mentions.Column;
                    continue;
                case SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier:
                    break;
                default:
                    continue;
            }
            if (t.Kind == SqlTokenKind.Identifier)
            {
                if (t.Text is "from" or "join") inFrom = true;
                else if (s_endFrom.Contains(t.Text)) inFrom = false;
            }
            if (columns.Contains(t.Text))
            {
                found |= Mentions.Column;
            }
            if (!tables.Contains(t.Text) || next.Kind == SqlTokenKind.Dot)
            {
                continue;
            }
            bool tablePosition = previous.Kind == SqlTokenKind.Dot
                || (previous.Kind == SqlTokenKind.Identifier && s_tablePosition.Contains(previous.Text))
                || (previous.Kind == SqlTokenKind.Comma && inFrom);
            if (!tablePosition)
            {
                continue;
            }
            references.Add(i);
            int a = i + 1;
            if (a < tokens.Count && tokens[a].Is("as")) a++;
            if (a < tokens.Count && tokens[a].Kind is SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier
                && !(tokens[a].Kind == SqlTokenKind.Identifier && s_notAlias.Contains(tokens[a].Text)))
            {
                aliases.Add(tokens[a].Text);
                definitions.Add(a);
            }
        }

        // Pass 2: a masked table or alias used as a value.
        for (int i = 0; i < tokens.Count; i++)
        {
            var t = tokens[i];
            if (t.Kind is not (SqlTokenKind.Identifier or SqlTokenKind.QuotedIdentifier) || references.Contains(i) || definitions.Contains(i))
            {
                continue;
            }
            if (!tables.Contains(t.Text) && !aliases.Contains(t.Text))
            {
                continue;
            }
            bool qualifier = i + 1 < tokens.Count && tokens[i + 1].Kind == SqlTokenKind.Dot;
            bool qualified = i > 0 && tokens[i - 1].Kind == SqlTokenKind.Dot;
            if (!qualifier && !qualified)
            {
                found |= Mentions.WholeRow;
            }
        }
        return found;
    }
}

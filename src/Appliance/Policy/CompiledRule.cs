using Appliance.Configuration;
using Appliance.Identity;

namespace Appliance.Policy;

/// <summary>One rule, compiled: roles as a set, classes as a bit mask, tables and functions as globs.</summary>
public sealed class CompiledRule
{
    public CompiledRule(int index, RuleConfig config)
    {
        Index = index;
        Config = config;
        (Action, var classes) = config switch
        {
            { Allow.Count: > 0 } => (PolicyAction.Allow, config.Allow),
            { Deny.Count: > 0 } => (PolicyAction.Deny, config.Deny),
            _ => (PolicyAction.Review, config.Review),
        };
        ClassMask = StatementClasses.Mask(classes);
        AnyRole = config.Roles.Contains(ConfigVocabulary.AnyRole);
        Roles = config.Roles.ToHashSet(StringComparer.Ordinal);
        Tables = config.Tables.Where(t => t != "*").Select(GlobPattern.Compile).ToArray();
        AnyTable = config.Tables.Count == 0 || config.Tables.Contains("*");
        Functions = config.Functions.Select(GlobPattern.Compile).ToArray();
    }

    public int Index { get; }
    public RuleConfig Config { get; }
    public PolicyAction Action { get; }
    public uint ClassMask { get; }
    public bool AnyRole { get; }
    public IReadOnlySet<string> Roles { get; }
    public bool AnyTable { get; }
    public GlobPattern[] Tables { get; }
    public GlobPattern[] Functions { get; }

    /// <summary>A deny or review rule with table patterns: what views read matters to it.</summary>
    public bool CoversTablesBehindViews => Action != PolicyAction.Allow && !AnyTable;

    public bool AppliesTo(IReadOnlyList<string> roles)
    {
        if (AnyRole) return true;
        foreach (var role in roles)
        {
            if (Roles.Contains(role)) return true;
        }
        return false;
    }

    /// <summary>A short human description for refusal messages: "rule 2 (line 31)".</summary>
    public string Describe() => $"rule {Index + 1} (line {Config.Line})";

    /// <summary>
    /// Does the rule cover the statement? Allow rules need every table to fit a pattern; deny and review
    /// rules match when any table fits, or any relation a view in the statement reads (unknown tables count as
    /// fitting: fail closed either way). An allow rule naming a view allows it whatever the view reads.
    /// A function may read any table: with the calls resolved against the catalog, deny and review rules with
    /// tables match a statement that makes an <paramref name="opaque"/> call; unresolved, any statement naming no table.
    /// Deny and review rules with functions match only statements calling one of them.
    /// </summary>
    public bool Matches(in StatementFacts facts, bool opaque = false)
    {
        if ((ClassMask & (1u << (int)facts.Class)) == 0)
        {
            return false;
        }
        if (Action != PolicyAction.Allow && Functions.Length > 0 && facts.FunctionsComplete && !AnyFunction(facts.Names, facts.Functions, Functions))
        {
            return false;
        }
        if (AnyTable)
        {
            return true;
        }
        if (Action == PolicyAction.Allow)
        {
            return facts.TablesComplete && AllNames(facts.Names, facts.Tables, Tables, catalogReadsFit: facts.Class is StatementClass.Select or StatementClass.Explain);
        }
        return !facts.TablesComplete || (facts.FunctionsResolved ? opaque : facts.Tables.IsEmpty)
            || AnyName(facts.Names, facts.Tables, Tables) || AnyName(facts.Names, facts.ReadThroughViews, Tables);
    }

    /// <summary>Allow rules: may the statement call this guarded function?</summary>
    public bool PermitsFunction(ReadOnlySpan<char> name) => FunctionFits(name, Functions);

    /// <summary>
    /// A pattern with a dot matches the qualified name; one without matches the function's own name whatever
    /// schema it was called through, so <c>pg_catalog.pg_sleep</c> cannot slip past <c>pg_sleep*</c>.
    /// </summary>
    internal static bool FunctionFits(ReadOnlySpan<char> name, GlobPattern[] patterns)
    {
        int dot = name.LastIndexOf('.');
        var bare = dot >= 0 && !name[(dot + 1)..].Contains('"') ? name[(dot + 1)..] : name;
        foreach (var pattern in patterns)
        {
            if (pattern.IsMatch(pattern.Pattern.Contains('.') ? name : bare)) return true;
        }
        return false;
    }

    private static bool AnyFunction(ReadOnlySpan<byte> names, ReadOnlySpan<Range> ranges, GlobPattern[] patterns)
    {
        Span<char> chars = stackalloc char[256];
        foreach (var range in ranges)
        {
            var name = names[range];
            if (name.Length > chars.Length) return true;
            int n = System.Text.Encoding.UTF8.GetChars(name, chars);
            if (FunctionFits(chars[..n], patterns)) return true;
        }
        return false;
    }

    /// <summary>
    /// Every name fits a pattern. Reading the system catalogs fits any allow rule: drivers read them on every
    /// connection (type loading, psql's \d), PostgreSQL lets every role read them, and they hold metadata.
    /// </summary>
    private static bool AllNames(ReadOnlySpan<byte> names, ReadOnlySpan<Range> ranges, GlobPattern[] patterns, bool catalogReadsFit)
    {
        foreach (var range in ranges)
        {
            var name = names[range];
            if (catalogReadsFit && (name.StartsWith("pg_catalog."u8) || name.StartsWith("information_schema."u8)))
            {
                continue;
            }
            if (!Fits(name, patterns)) return false;
        }
        return true;
    }

    private static bool AnyName(ReadOnlySpan<byte> names, ReadOnlySpan<Range> ranges, GlobPattern[] patterns)
    {
        foreach (var range in ranges)
        {
            if (Fits(names[range], patterns)) return true;
        }
        return false;
    }

    internal static bool Fits(ReadOnlySpan<byte> name, GlobPattern[] patterns)
    {
        Span<char> chars = stackalloc char[256];
        if (name.Length > chars.Length)
        {
            return false;
        }
        int n = System.Text.Encoding.UTF8.GetChars(name, chars);
        foreach (var pattern in patterns)
        {
            if (pattern.IsMatch(chars[..n])) return true;
        }
        return false;
    }
}

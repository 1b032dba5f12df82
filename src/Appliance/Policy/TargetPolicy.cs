using Appliance.Configuration;
using Appliance.Identity;

namespace Appliance.Policy;

/// <summary>A target's rules, compiled once; immutable, shared by every session on the target.</summary>
public sealed class TargetPolicy
{
    private readonly GuardedFunctions _guarded;

    public TargetPolicy(TargetConfig target, GuardedFunctions? guarded = null)
    {
        _guarded = guarded ?? GuardedFunctions.Default;
        Target = target.Name;
        Rules = target.Rules.Select((r, i) => new CompiledRule(i, r)).ToArray();
        MaskRules = target.Masking.Select(m => new Masking.MaskRule(m)).ToArray();
        MaskedColumns = MaskRules.SelectMany(m => m.Columns).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        _trusted = target.TrustedFunctions.Select(GlobPattern.Compile).ToArray();
    }

    private readonly GlobPattern[] _trusted;

    /// <summary>
    /// True for a function named in <c>trusted_functions</c> (schema and name, as the catalog spells them): the
    /// operator vouches that it reads no table, so calling it does not make a rule with tables match.
    /// </summary>
    public bool Trusts(ReadOnlySpan<char> schema, ReadOnlySpan<char> name)
    {
        if (_trusted.Length == 0 || schema.Length + name.Length + 1 > 256)
        {
            return false;
        }
        Span<char> qualified = stackalloc char[schema.Length + name.Length + 1];
        schema.CopyTo(qualified);
        qualified[schema.Length] = '.';
        name.CopyTo(qualified[(schema.Length + 1)..]);
        return Trusts(qualified);
    }

    /// <inheritdoc cref="Trusts(ReadOnlySpan{char}, ReadOnlySpan{char})"/>
    public bool Trusts(ReadOnlySpan<char> qualified)
    {
        foreach (var pattern in _trusted)
        {
            if (pattern.IsMatch(qualified)) return true;
        }
        return false;
    }

    /// <summary>Every column some masking entry names, whoever it applies to (what the catalog resolves).</summary>
    public string[] MaskedColumns { get; }

    /// <summary>The target's masking entries in order; empty when nothing is masked.</summary>
    public Masking.MaskRule[] MaskRules { get; }

    public string Target { get; }
    public CompiledRule[] Rules { get; }

    /// <summary>True when at least one rule names one of the roles: the connection may be opened.</summary>
    public bool Admits(IReadOnlyList<string> roles) => Rules.Any(r => r.AppliesTo(roles));

    /// <summary>Which rules apply to a principal, worked out once per session (and per policy version).</summary>
    public bool[] Applicability(IReadOnlyList<string> roles) => Rules.Select(r => r.AppliesTo(roles)).ToArray();

    /// <summary>First matching rule wins; nothing matching is a deny. Does not allocate.</summary>
    public Decision Decide(ReadOnlySpan<bool> applies, in StatementFacts facts)
    {
        int opaque = -1;
        for (int i = 0; i < Rules.Length; i++)
        {
            if (!applies[i])
            {
                continue;
            }
            var rule = Rules[i];
            if (opaque < 0 && facts.FunctionsResolved && rule.CoversTablesBehindViews)
            {
                opaque = MakesOpaqueCall(in facts) ? 1 : 0;
            }
            if (!rule.Matches(in facts, opaque == 1))
            {
                continue;
            }
            if (rule.Action == PolicyAction.Allow && CallsUnpermittedGuardedFunction(rule, in facts))
            {
                return new Decision(PolicyAction.Deny, i, DecisionReason.GuardedFunction);
            }
            return new Decision(rule.Action, i, DecisionReason.RuleMatched);
        }
        return new Decision(PolicyAction.Deny, -1, DecisionReason.NoRuleMatched);
    }

    /// <summary>True for a guarded function (see <see cref="GuardedFunctions"/>).</summary>
    public bool Guards(ReadOnlySpan<char> name) => _guarded.IsGuarded(name);

    /// <summary>A call that may read tables the statement does not name: a user function, a guarded one (query_to_xml, dblink, ...), or calls hidden from the classifier.</summary>
    public bool MakesOpaqueCall(in StatementFacts facts)
    {
        if (facts.CallsUserFunction || !facts.FunctionsComplete)
        {
            return true;
        }
        Span<char> chars = stackalloc char[256];
        foreach (var range in facts.Functions)
        {
            var name = facts.Names[range];
            if (name.Length > chars.Length || _guarded.IsGuarded(chars[..System.Text.Encoding.UTF8.GetChars(name, chars)]))
            {
                return true;
            }
        }
        return false;
    }

    private bool CallsUnpermittedGuardedFunction(CompiledRule rule, in StatementFacts facts)
    {
        // A DO block is opaque by nature; a rule that allows `do` has accepted that.
        if (!facts.FunctionsComplete && facts.Class != StatementClass.Do && !rule.PermitsFunction("*"))
        {
            return true;
        }
        Span<char> chars = stackalloc char[256];
        foreach (var range in facts.Functions)
        {
            var name = facts.Names[range];
            if (name.Length > chars.Length)
            {
                return true;
            }
            int n = System.Text.Encoding.UTF8.GetChars(name, chars);
            if (_guarded.IsGuarded(chars[..n]) && !rule.PermitsFunction(chars[..n]))
            {
                return true;
            }
        }
        return false;
    }
}

namespace Appliance.Policy;

/// <summary>
/// One session's view of the policy: its target's rules and which of them apply to its principal,
/// refreshed when the store's policy changes.
/// </summary>
public sealed class SessionPolicy(PolicyStore store, string target, IReadOnlyList<string> roles)
{
    private PolicySet? _set;
    private TargetPolicy? _policy;
    private bool[] _applies = [];
    private Masking.SessionMasks? _masks;
    private bool _viewsMatter;

    public string Target => target;

    /// <summary>The rules in force now (null if the target has gone from the policy).</summary>
    public TargetPolicy? Current
    {
        get
        {
            var set = store.Current;
            if (!ReferenceEquals(set, _set))
            {
                _set = set;
                _policy = set.For(target);
                _applies = _policy?.Applicability(roles) ?? [];
                _masks = _policy is null ? null : Masking.SessionMasks.For(_policy.MaskRules, roles);
                _viewsMatter = _policy is not null && _policy.Rules.Where((r, i) => _applies[i]).Any(r => r.CoversTablesBehindViews);
            }
            return _policy;
        }
    }

    /// <summary>The masks in force now for this principal; null when nothing is masked for it.</summary>
    public Masking.SessionMasks? Masks => Current is null ? null : _masks;

    /// <summary>True when a deny or review rule with tables applies to this principal: statements are then decided with what their views read.</summary>
    public bool ViewsMatter => Current is not null && _viewsMatter;

    public Decision Decide(in StatementFacts facts)
    {
        var policy = Current;
        return policy is null ? new Decision(PolicyAction.Deny, -1, DecisionReason.NoRuleMatched) : policy.Decide(_applies, in facts);
    }
}

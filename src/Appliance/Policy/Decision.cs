namespace Appliance.Policy;

/// <summary>The outcome for one statement: what to do and which rule said so (-1: no rule, the default deny).</summary>
public readonly record struct Decision(PolicyAction Action, int RuleIndex, DecisionReason Reason)
{
    public bool IsAllowed => Action == PolicyAction.Allow;
}

/// <summary>Why a statement got its decision; refusals turn this into text, the hot path never does.</summary>
public enum DecisionReason : byte
{
    RuleMatched,
    NoRuleMatched,
    GuardedFunction,
}

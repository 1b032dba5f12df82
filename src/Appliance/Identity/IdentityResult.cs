namespace Appliance.Identity;

/// <summary>The outcome of a verification: a principal, or a failure with a human reason safe to show the caller.</summary>
public readonly record struct IdentityResult(Principal? Principal, IdentityFailure Failure, string Reason)
{
    /// <summary>True when a principal was established.</summary>
    [System.Diagnostics.CodeAnalysis.MemberNotNullWhen(true, nameof(Principal))]
    public bool IsSuccess => Failure == IdentityFailure.None && Principal is not null;

    /// <summary>A successful result for <paramref name="principal"/>.</summary>
    public static IdentityResult Success(Principal principal) => new(principal, IdentityFailure.None, "");

    /// <summary>A refusal; <paramref name="reason"/> must never contain the token.</summary>
    public static IdentityResult Fail(IdentityFailure failure, string reason) => new(null, failure, reason);

    public override string ToString() => IsSuccess ? $"accepted {Principal}" : $"{Failure}: {Reason}";
}

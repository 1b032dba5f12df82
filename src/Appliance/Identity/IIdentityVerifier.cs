namespace Appliance.Identity;

/// <summary>Turns a presented credential into a <see cref="Principal"/> or a failure that says why not.</summary>
public interface IIdentityVerifier
{
    /// <summary>Verifies <paramref name="token"/>; bad tokens are a failure value, never an exception.</summary>
    ValueTask<IdentityResult> VerifyAsync(string token, CancellationToken ct);
}

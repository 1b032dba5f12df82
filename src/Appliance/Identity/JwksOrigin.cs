namespace Appliance.Identity;

/// <summary>Where an issuer's JWKS JSON comes from.</summary>
internal abstract class JwksOrigin
{
    /// <summary>Key sets are small; anything bigger is a misconfiguration or an attack.</summary>
    public const int MaxJwksBytes = 1024 * 1024;

    /// <summary>For messages: the file path or URI (configuration, never token data).</summary>
    public abstract string Description { get; }

    /// <summary>Whether keys go stale with time (fetched keys) or only change on reload (files).</summary>
    public abstract bool ExpiresWithAge { get; }

    /// <summary>Reads the JSON; throws <see cref="InvalidDataException"/>, <see cref="IOException"/> or
    /// <see cref="HttpRequestException"/> with a short reason (the caller adds <see cref="Description"/>).</summary>
    public abstract Task<string> ReadAsync(CancellationToken ct);
}

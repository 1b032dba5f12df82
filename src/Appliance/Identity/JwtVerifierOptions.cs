namespace Appliance.Identity;

/// <summary>Collaborators and limits for <see cref="JwtVerifier"/>; the defaults suit production.</summary>
public sealed class JwtVerifierOptions
{
    /// <summary>Longest token accepted; real CI tokens are 1–4 KB, so larger input is refused unparsed.</summary>
    public const int DefaultMaxTokenLength = 16 * 1024;

    /// <summary>Clock for exp/nbf, key refresh rate limits and the cache (tests pass a fake one).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Client for <c>jwks_uri</c> fetches; when null the verifier creates and owns one.</summary>
    public HttpClient? HttpClient { get; init; }

    /// <summary>Most verified tokens remembered; 0 disables the cache.</summary>
    public int CacheCapacity { get; init; } = VerifiedTokenCache.DefaultCapacity;

    /// <summary>Tokens longer than this (in characters) are refused before any parsing.</summary>
    public int MaxTokenLength { get; init; } = DefaultMaxTokenLength;
}

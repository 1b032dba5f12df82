using System.Collections.Frozen;
using Appliance.Configuration;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Appliance.Identity;

/// <summary>
/// Verifies OIDC/JWT bearer tokens against the configured issuers with Microsoft.IdentityModel, and maps the
/// verified claims to roles. Thread-safe; one instance serves every listener.
/// </summary>
public sealed class JwtVerifier : IIdentityVerifier, IDisposable
{
    private readonly FrozenDictionary<string, TrustedIssuer> _issuersByUrl;
    private readonly RoleMapper _roles;
    private readonly TimeProvider _time;
    private readonly VerifiedTokenCache _cache;
    private readonly int _maxTokenLength;
    private readonly HttpClient? _ownedHttp;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    /// <summary>
    /// Checks the issuers and loads every <c>jwks_file</c> now; <c>jwks_uri</c> keys are fetched on first use.
    /// Throws <see cref="ArgumentException"/> with a one-line reason for unsafe or unusable configuration.
    /// </summary>
    public JwtVerifier(IdentityConfig config, RoleMapper roles, JwtVerifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(roles);
        options ??= new JwtVerifierOptions();
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxTokenLength, 1, nameof(options));

        _roles = roles;
        _time = options.TimeProvider;
        _maxTokenLength = options.MaxTokenLength;
        _cache = new VerifiedTokenCache(options.CacheCapacity);
        var http = options.HttpClient ?? (_ownedHttp = new HttpClient { Timeout = IssuerKeys.FetchTimeout });

        var byUrl = new Dictionary<string, TrustedIssuer>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var issuerConfig in config.Issuers)
        {
            var issuer = TrustedIssuer.Create(issuerConfig, http, _time);
            if (!names.Add(issuer.Name))
            {
                throw new ArgumentException($"identity issuer name '{issuer.Name}' is used twice");
            }
            // The issuer is chosen by the token's iss, so two entries for one URL would be ambiguous.
            if (!byUrl.TryAdd(issuerConfig.Issuer, issuer))
            {
                throw new ArgumentException(
                    $"identity issuers '{byUrl[issuerConfig.Issuer].Name}' and '{issuer.Name}' have the same issuer " +
                    $"'{issuerConfig.Issuer}'; list all audiences under one entry");
            }
        }
        _issuersByUrl = byUrl.ToFrozenDictionary(StringComparer.Ordinal);
    }

    /// <summary>Number of verified tokens currently cached (for metrics and tests).</summary>
    public int CachedTokenCount => _cache.Count;

    /// <inheritdoc/>
    public ValueTask<IdentityResult> VerifyAsync(string token, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(token))
        {
            return new(IdentityRefusals.Empty);
        }
        if (token.Length > _maxTokenLength)
        {
            return new(IdentityRefusals.TooLarge(_maxTokenLength));
        }

        // Fast path: the same token on another connection. Entries end by the token's exp at the latest.
        var digest = TokenDigest.Of(token);
        if (_cache.TryGet(digest, _time.GetUtcNow(), out var cached))
        {
            return new(IdentityResult.Success(cached));
        }
        return VerifyUncachedAsync(token, digest, ct);
    }

    /// <summary>
    /// Re-reads every issuer's keys now (files and URIs, ignoring the refresh rate limit) and forgets cached
    /// tokens. An issuer whose keys fail to load keeps its previous keys. Returns one line per problem.
    /// </summary>
    public async Task<IReadOnlyList<string>> ReloadKeysAsync(CancellationToken ct)
    {
        var problems = new List<string>();
        foreach (var issuer in _issuersByUrl.Values)
        {
            if (await issuer.Keys.ReloadAsync(ct).ConfigureAwait(false) is { } error)
            {
                problems.Add($"identity issuer '{issuer.Name}': {error}");
            }
        }
        _cache.Clear();
        return problems;
    }

    /// <summary>Disposes the HTTP client the verifier created (never one passed in options).</summary>
    public void Dispose() => _ownedHttp?.Dispose();

    private async ValueTask<IdentityResult> VerifyUncachedAsync(string token, TokenDigest digest, CancellationToken ct)
    {
        if (TokenShape.Check(token) is { } shapeRefusal)
        {
            return shapeRefusal;
        }
        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (Exception ex) when (ex is ArgumentException or SecurityTokenException)
        {
            return IdentityRefusals.Malformed;
        }

        // Header checks come before anything else so 'none' and HS* get their own reasons, and so no key
        // lookup or network fetch happens for a token that could never be accepted.
        var alg = jwt.Alg;
        if (string.IsNullOrEmpty(alg))
        {
            return IdentityRefusals.MissingAlgorithm;
        }
        if (alg.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            return IdentityRefusals.AlgorithmNone;
        }

        // The unverified iss only chooses which keys to try; the library checks it again after the signature.
        var iss = jwt.Issuer;
        if (string.IsNullOrEmpty(iss))
        {
            return IdentityRefusals.MissingIssuer;
        }
        if (!_issuersByUrl.TryGetValue(iss, out var issuer))
        {
            return IdentityRefusals.UnknownIssuer(iss);
        }
        if (!issuer.Allows(alg))
        {
            return IdentityRefusals.AlgorithmNotAllowed(alg, issuer.Name);
        }

        // The jku/x5u/jwk headers are never consulted: keys come only from configuration.
        var kid = string.IsNullOrEmpty(jwt.Kid) ? null : jwt.Kid;
        var keys = await issuer.Keys.GetAsync(kid, ct).ConfigureAwait(false);
        if (keys is null)
        {
            return IdentityRefusals.KeysUnavailable(issuer.Name, issuer.Keys.LastError ?? "not loaded yet");
        }
        if (kid is not null && !keys.Contains(kid))
        {
            return IdentityRefusals.UnknownKey(kid);
        }

        var validation = await _handler.ValidateTokenAsync(jwt, issuer.ParametersFor(keys)).ConfigureAwait(false);
        if (!validation.IsValid)
        {
            return Refusal(validation.Exception, jwt, issuer, kid);
        }
        if (TokenLifetime.Check(jwt, issuer.Config.ClockSkew, _time.GetUtcNow()) is { } lifetimeRefusal)
        {
            return lifetimeRefusal;
        }

        if (!PayloadClaims.TryRead(jwt.EncodedPayload, out var claims, out var claimsDigest))
        {
            return IdentityRefusals.Malformed;
        }
        if (!claims.TryGetValue("sub", out var sub) || sub.Count != 1 || sub[0].Length == 0)
        {
            return IdentityRefusals.MissingSubject;
        }

        var principal = new Principal(
            subject: sub[0],
            issuer: issuer.Name,
            roles: _roles.Map(claims),
            expiresAt: TokenLifetime.Utc(jwt.ValidTo),
            claims: claims,
            claimsDigest: claimsDigest);
        _cache.Add(digest, principal, _time.GetUtcNow());
        return IdentityResult.Success(principal);
    }

    // Library messages are never passed on: they are for developers and may quote token content.
    private static IdentityResult Refusal(Exception? error, JsonWebToken jwt, TrustedIssuer issuer, string? kid) => error switch
    {
        SecurityTokenInvalidAudienceException => IdentityRefusals.WrongAudience(jwt.Audiences, issuer.Name),
        SecurityTokenInvalidIssuerException => IdentityRefusals.UnknownIssuer(jwt.Issuer),
        SecurityTokenInvalidAlgorithmException => IdentityRefusals.AlgorithmNotAllowed(jwt.Alg, issuer.Name),
        SecurityTokenSignatureKeyNotFoundException when kid is not null => IdentityRefusals.UnknownKey(kid),
        SecurityTokenInvalidSignatureException => IdentityRefusals.BadSignature(issuer.Name),
        SecurityTokenMalformedException => IdentityRefusals.Malformed,
        _ => IdentityRefusals.Invalid("it failed validation"),
    };
}

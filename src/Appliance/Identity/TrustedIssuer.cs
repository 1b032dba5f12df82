using System.Collections.Frozen;
using Appliance.Configuration;
using Microsoft.IdentityModel.Tokens;

namespace Appliance.Identity;

/// <summary>One configured issuer, checked for unsafe settings, with its keys and validation parameters.</summary>
internal sealed class TrustedIssuer
{
    /// <summary>Asymmetric algorithms the library verifies. HS* is excluded on purpose: with a published key
    /// as the "secret", anyone could sign (the classic algorithm-confusion attack).</summary>
    private static readonly FrozenSet<string> s_supportedAlgorithms = FrozenSet.ToFrozenSet(
        ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"], StringComparer.Ordinal);

    private static readonly TimeSpan s_maxClockSkew = TimeSpan.FromMinutes(5);

    private readonly FrozenSet<string> _algorithms;
    // Parameters are rebuilt only when the key set is replaced; the pair is swapped as one reference.
    private volatile Tuple<IssuerKeySet, TokenValidationParameters>? _parameters;

    private TrustedIssuer(IssuerConfig config, IssuerKeys keys)
    {
        Config = config;
        Keys = keys;
        _algorithms = config.Algorithms.ToFrozenSet(StringComparer.Ordinal);
    }

    public IssuerConfig Config { get; }

    public string Name => Config.Name;

    public IssuerKeys Keys { get; }

    /// <summary>Checks <paramref name="config"/>, then loads a <c>jwks_file</c> at once so a bad file stops start-up.
    /// Throws <see cref="ArgumentException"/> with a one-line reason naming the issuer.</summary>
    public static TrustedIssuer Create(IssuerConfig config, HttpClient http, TimeProvider time)
    {
        var origin = CheckAndCreateOrigin(config, http);
        var keys = new IssuerKeys(origin, time, config.JwksRefreshInterval);
        if (origin is JwksFileOrigin file)
        {
            try
            {
                keys.Install(IssuerKeySet.Parse(file.Read(), time.GetUtcNow()));
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                throw Problem(config, $"jwks_file '{file.Description}': {ex.Message}");
            }
        }
        return new TrustedIssuer(config, keys);
    }

    public bool Allows(string algorithm) => _algorithms.Contains(algorithm);

    public TokenValidationParameters ParametersFor(IssuerKeySet keys)
    {
        var current = _parameters;
        if (current is not null && ReferenceEquals(current.Item1, keys))
        {
            return current.Item2;
        }
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = Config.Issuer,
            ValidateIssuer = true,
            ValidAudiences = Config.Audiences,
            ValidateAudience = true,
            IssuerSigningKeys = keys.Keys,
            // Tokens without a kid are checked against each key; unknown kids never get here.
            TryAllIssuerSigningKeys = true,
            RequireSignedTokens = true,
            ValidAlgorithms = Config.Algorithms,
            // exp/nbf are checked by TokenLifetime on the injected clock, after the signature.
            ValidateLifetime = false,
            RequireExpirationTime = true,
            ClockSkew = Config.ClockSkew,
            ValidateTokenReplay = false,
            SaveSigninToken = false,
            LogValidationExceptions = false,
            ValidateWithLKG = false,
        };
        _parameters = Tuple.Create(keys, parameters);
        return parameters;
    }

    private static JwksOrigin CheckAndCreateOrigin(IssuerConfig config, HttpClient http)
    {
        if (string.IsNullOrWhiteSpace(config.Name))
        {
            throw new ArgumentException($"identity issuer '{config.Issuer}' has no name");
        }
        if (string.IsNullOrWhiteSpace(config.Issuer))
        {
            throw Problem(config, "issuer (the 'iss' URL) is empty");
        }
        // Without an audience any token this issuer mints for anyone (another service, another CI job's
        // cloud login) would be accepted here.
        if (config.Audiences.Count == 0 || config.Audiences.Exists(string.IsNullOrWhiteSpace))
        {
            throw Problem(config, "audiences must list at least one non-empty audience");
        }
        if (config.Algorithms.Count == 0)
        {
            throw Problem(config, "algorithms is empty");
        }
        foreach (var alg in config.Algorithms)
        {
            if (!s_supportedAlgorithms.Contains(alg))
            {
                throw Problem(config, $"algorithm '{alg}' is not supported; use RS*, PS* or ES* (never 'none' or HS*)");
            }
        }
        if (config.ClockSkew < TimeSpan.Zero || config.ClockSkew > s_maxClockSkew)
        {
            throw Problem(config, $"clock_skew must be between 0 and {s_maxClockSkew.TotalMinutes:0} minutes");
        }
        if (config.JwksRefreshInterval < TimeSpan.Zero)
        {
            throw Problem(config, "jwks_refresh_interval must not be negative");
        }

        var hasFile = !string.IsNullOrWhiteSpace(config.JwksFile);
        var hasUri = !string.IsNullOrWhiteSpace(config.JwksUri);
        if (hasFile == hasUri)
        {
            throw Problem(config, "set exactly one of jwks_file and jwks_uri");
        }
        if (hasFile)
        {
            return new JwksFileOrigin(config.JwksFile!);
        }
        if (!Uri.TryCreate(config.JwksUri, UriKind.Absolute, out var uri)
            || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
        {
            // Keys fetched over plain HTTP could be swapped by anyone on the path.
            throw Problem(config, $"jwks_uri '{config.JwksUri}' must be an absolute https:// URL (http:// only for loopback)");
        }
        return new JwksUriOrigin(uri, http);
    }

    private static ArgumentException Problem(IssuerConfig config, string what) =>
        new($"identity issuer '{config.Name}': {what}");
}

using Microsoft.IdentityModel.Tokens;

namespace Appliance.Identity;

/// <summary>One immutable snapshot of an issuer's public signing keys; replaced whole on reload.</summary>
internal sealed class IssuerKeySet
{
    private readonly HashSet<string> _keyIds;

    private IssuerKeySet(IReadOnlyList<SecurityKey> keys, HashSet<string> keyIds, DateTimeOffset loadedAt)
    {
        Keys = keys;
        _keyIds = keyIds;
        LoadedAt = loadedAt;
    }

    public IReadOnlyList<SecurityKey> Keys { get; }

    /// <summary>When this snapshot was read or fetched (by the verifier's clock).</summary>
    public DateTimeOffset LoadedAt { get; }

    public bool Contains(string keyId) => _keyIds.Contains(keyId);

    /// <summary>
    /// Parses JWKS JSON, keeping RSA and EC signing keys. Throws <see cref="InvalidDataException"/> with a
    /// one-line reason: a set with no usable key, or one that publishes a private or symmetric key, is refused.
    /// </summary>
    public static IssuerKeySet Parse(string json, DateTimeOffset loadedAt)
    {
        JsonWebKeySet set;
        try
        {
            set = new JsonWebKeySet(json);
        }
        catch (ArgumentException)
        {
            throw new InvalidDataException("not a JSON Web Key Set");
        }

        foreach (var key in set.Keys)
        {
            // A private or shared secret in a published key set is a leak; refusing it makes the mistake loud.
            if (key.HasPrivateKey || !string.IsNullOrEmpty(key.D) || !string.IsNullOrEmpty(key.P) || !string.IsNullOrEmpty(key.K))
            {
                throw new InvalidDataException($"key '{UntrustedText.Echo(key.Kid)}' contains private or symmetric key material");
            }
        }

        var keys = new List<SecurityKey>();
        var keyIds = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in set.GetSigningKeys())
        {
            if (key is not (RsaSecurityKey or ECDsaSecurityKey or JsonWebKey or X509SecurityKey))
            {
                continue;
            }
            keys.Add(key);
            if (!string.IsNullOrEmpty(key.KeyId))
            {
                keyIds.Add(key.KeyId);
            }
        }
        if (keys.Count == 0)
        {
            throw new InvalidDataException("the key set has no usable RSA or EC signing key");
        }
        return new IssuerKeySet(keys, keyIds, loadedAt);
    }
}

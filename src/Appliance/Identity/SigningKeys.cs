using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.IdentityModel.Tokens;

namespace Appliance.Identity;

/// <summary>
/// Key material for the demo issuer, tests and load scripts: generate a pair, save the private key as PEM and
/// the public key as a JWKS file, load the private key back. Key ids are RFC 7638 thumbprints, so a key loaded
/// from PEM gets the same <c>kid</c> it was published under.
/// </summary>
public static class SigningKeys
{
    /// <summary>A new key pair for <paramref name="algorithm"/> (RS*/PS*: RSA 2048; ES256/384/512: the matching curve).</summary>
    public static AsymmetricSecurityKey Generate(string algorithm)
    {
        AsymmetricSecurityKey key = algorithm switch
        {
            "RS256" or "RS384" or "RS512" or "PS256" or "PS384" or "PS512" => new RsaSecurityKey(RSA.Create(2048)),
            "ES256" => new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)),
            "ES384" => new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP384)),
            "ES512" => new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP521)),
            _ => throw new ArgumentException($"cannot generate a key for algorithm '{algorithm}'", nameof(algorithm)),
        };
        key.KeyId = KeyIdOf(key);
        return key;
    }

    /// <summary>The default signing algorithm for a key: RS256 for RSA, ES256/384/512 by curve size.</summary>
    public static string DefaultAlgorithm(AsymmetricSecurityKey key) => key switch
    {
        RsaSecurityKey => SecurityAlgorithms.RsaSha256,
        ECDsaSecurityKey ec => ec.ECDsa.KeySize switch
        {
            256 => SecurityAlgorithms.EcdsaSha256,
            384 => SecurityAlgorithms.EcdsaSha384,
            _ => SecurityAlgorithms.EcdsaSha512,
        },
        _ => throw new ArgumentException("only RSA and ECDSA keys are supported", nameof(key)),
    };

    /// <summary>The private key as PKCS#8 PEM (<c>-----BEGIN PRIVATE KEY-----</c>).</summary>
    public static string ExportPrivateKeyPem(AsymmetricSecurityKey key) => key switch
    {
        RsaSecurityKey rsa => Rsa(rsa).ExportPkcs8PrivateKeyPem(),
        ECDsaSecurityKey ec => ec.ECDsa.ExportPkcs8PrivateKeyPem(),
        _ => throw new ArgumentException("only RSA and ECDSA keys are supported", nameof(key)),
    };

    /// <summary>Loads an RSA or EC private key from PEM (PKCS#8, or PKCS#1/SEC1); its key id is its thumbprint.</summary>
    public static AsymmetricSecurityKey ImportPrivateKeyPem(string pem)
    {
        AsymmetricSecurityKey key;
        if (pem.Contains("BEGIN EC PRIVATE KEY", StringComparison.Ordinal))
        {
            key = new ECDsaSecurityKey(ImportEc(pem));
        }
        else if (pem.Contains("BEGIN RSA PRIVATE KEY", StringComparison.Ordinal))
        {
            key = new RsaSecurityKey(ImportRsa(pem));
        }
        else
        {
            // PKCS#8 does not say which algorithm in its label; try RSA, then EC.
            var rsa = RSA.Create();
            try
            {
                rsa.ImportFromPem(pem);
                key = new RsaSecurityKey(rsa);
            }
            catch (Exception ex) when (ex is CryptographicException or ArgumentException)
            {
                rsa.Dispose();
                key = new ECDsaSecurityKey(ImportEc(pem));
            }
        }
        key.KeyId = KeyIdOf(key);
        return key;
    }

    /// <summary>Writes the private key PEM readable by the owner only.</summary>
    public static void WritePrivateKeyPem(AsymmetricSecurityKey key, string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream, new UTF8Encoding(false)))
        {
            writer.Write(ExportPrivateKeyPem(key));
        }
        // UnixCreateMode applies only to new files; tighten an existing one too.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>Reads a private key written by <see cref="WritePrivateKeyPem"/> (or any RSA/EC PEM).</summary>
    public static AsymmetricSecurityKey ReadPrivateKeyPem(string path) => ImportPrivateKeyPem(File.ReadAllText(path));

    /// <summary>A JWKS document with the public halves of <paramref name="keys"/> (never private parameters).</summary>
    public static string ExportJwks(IEnumerable<AsymmetricSecurityKey> keys)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("keys");
            foreach (var key in keys)
            {
                json.WriteStartObject();
                foreach (var (name, value) in PublicMembers(key))
                {
                    json.WriteString(name, value);
                }
                json.WriteString("kid", key.KeyId ?? KeyIdOf(key));
                json.WriteString("use", "sig");
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>Writes <see cref="ExportJwks"/> of <paramref name="keys"/> to <paramref name="path"/>.</summary>
    public static void WriteJwks(string path, params IEnumerable<AsymmetricSecurityKey> keys) =>
        File.WriteAllText(path, ExportJwks(keys));

    /// <summary>The RFC 7638 JWK thumbprint of the public key, base64url: a stable key id.</summary>
    public static string KeyIdOf(AsymmetricSecurityKey key)
    {
        var jwk = new JsonWebKey();
        foreach (var (name, value) in PublicMembers(key))
        {
            switch (name)
            {
                case "kty": jwk.Kty = value; break;
                case "n": jwk.N = value; break;
                case "e": jwk.E = value; break;
                case "crv": jwk.Crv = value; break;
                case "x": jwk.X = value; break;
                case "y": jwk.Y = value; break;
            }
        }
        return Base64Url.EncodeToString(jwk.ComputeJwkThumbprint());
    }

    // The RFC 7517 public members, in the order RFC 7638 hashes them.
    private static (string Name, string Value)[] PublicMembers(AsymmetricSecurityKey key)
    {
        switch (key)
        {
            case RsaSecurityKey rsa:
                var p = Rsa(rsa).ExportParameters(includePrivateParameters: false);
                return [("e", Base64Url.EncodeToString(p.Exponent)), ("kty", "RSA"), ("n", Base64Url.EncodeToString(p.Modulus))];
            case ECDsaSecurityKey ec:
                var q = ec.ECDsa.ExportParameters(includePrivateParameters: false);
                var crv = ec.ECDsa.KeySize switch { 256 => "P-256", 384 => "P-384", 521 => "P-521", _ => throw new ArgumentException("unsupported curve", nameof(key)) };
                return [("crv", crv), ("kty", "EC"), ("x", Base64Url.EncodeToString(q.Q.X)), ("y", Base64Url.EncodeToString(q.Q.Y))];
            default:
                throw new ArgumentException("only RSA and ECDSA keys are supported", nameof(key));
        }
    }

    // RsaSecurityKey holds either an RSA instance or bare parameters.
    private static RSA Rsa(RsaSecurityKey key)
    {
        if (key.Rsa is not null)
        {
            return key.Rsa;
        }
        var rsa = RSA.Create();
        rsa.ImportParameters(key.Parameters);
        return rsa;
    }

    private static RSA ImportRsa(string pem)
    {
        var rsa = RSA.Create();
        rsa.ImportFromPem(pem);
        return rsa;
    }

    private static ECDsa ImportEc(string pem)
    {
        var ec = ECDsa.Create();
        ec.ImportFromPem(pem);
        return ec;
    }
}

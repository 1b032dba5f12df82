using System.Security.Cryptography;
using System.Text;

namespace Appliance.Masking;

/// <summary>
/// The secret behind hash masking: 32 random bytes in <c>state_dir/masking.key</c> (mode 0600), made on first
/// use. Each scope gets its own key derived from it, so a hash from one target cannot be matched in another
/// unless the rule asks for the global scope.
/// </summary>
public sealed class MaskingKeys(byte[] secret)
{
    public static MaskingKeys LoadOrCreate(string stateDir)
    {
        var path = Path.Combine(stateDir, "masking.key");
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(stateDir);
            var temporary = path + ".tmp";
            using (var file = new FileStream(temporary, new FileStreamOptions
            {
                Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            {
                file.Write(RandomNumberGenerator.GetBytes(32));
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: false);
        }
        var secret = File.ReadAllBytes(path);
        if (secret.Length != 32)
        {
            throw new InvalidDataException($"{path}: expected 32 bytes, found {secret.Length}; remove it to make a new one (hash masks will change)");
        }
        return new MaskingKeys(secret);
    }

    public byte[] For(HashScope scope, string target, long session) => HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(scope switch
    {
        HashScope.Global => "global",
        HashScope.Session => $"session:{target}:{session}",
        _ => $"target:{target}",
    }));
}

/// <summary>
/// One session's hash keys, one per scope, derived at session start, each with its HMAC made on first use and
/// reused for every value after: setting an HMAC key up costs more than hashing a value. Used by the
/// session's upstream side only.
/// </summary>
public sealed class SessionHashKeys(MaskingKeys keys, string target, long session)
{
    private readonly IncrementalHash?[] _hmacs = new IncrementalHash?[3];

    public IncrementalHash Hmac(HashScope scope)
        => _hmacs[(int)scope] ??= ValueMasker.Hmac(keys.For(scope, target, session));
}

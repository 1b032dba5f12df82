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

/// <summary>One session's hash keys, one per scope, derived once at session start.</summary>
public sealed class SessionHashKeys(MaskingKeys keys, string target, long session)
{
    private readonly byte[] _target = keys.For(HashScope.Target, target, session);
    private readonly byte[] _global = keys.For(HashScope.Global, target, session);
    private readonly byte[] _session = keys.For(HashScope.Session, target, session);

    public byte[] For(HashScope scope) => scope switch { HashScope.Global => _global, HashScope.Session => _session, _ => _target };
}

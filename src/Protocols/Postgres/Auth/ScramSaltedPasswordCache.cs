using System.Security.Cryptography;

namespace Appliance.Protocols.Postgres.Auth;

/// <summary>
/// The SaltedPassword of one password for the last salt and iteration count seen. PBKDF2 at PostgreSQL's
/// 4096 iterations costs about 2 ms of CPU per login, and a role's salt only changes with its password, so
/// a gateway that logs in as the same role for every session computes it once. Use one cache per password.
/// Thread-safe.
/// </summary>
public sealed class ScramSaltedPasswordCache
{
    private sealed record Entry(byte[] Salt, int Iterations, byte[] SaltedPassword);

    private Entry? _entry;

    internal bool TryGet(ReadOnlySpan<byte> salt, int iterations, Span<byte> saltedPassword)
    {
        var entry = Volatile.Read(ref _entry);
        if (entry is null || entry.Iterations != iterations || !CryptographicOperations.FixedTimeEquals(entry.Salt, salt))
        {
            return false;
        }
        entry.SaltedPassword.CopyTo(saltedPassword);
        return true;
    }

    internal void Set(ReadOnlySpan<byte> salt, int iterations, ReadOnlySpan<byte> saltedPassword)
        => Volatile.Write(ref _entry, new Entry(salt.ToArray(), iterations, saltedPassword.ToArray()));
}

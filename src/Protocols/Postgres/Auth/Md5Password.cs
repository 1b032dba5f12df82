using System.Security.Cryptography;
using System.Text;

namespace Appliance.Protocols.Postgres.Auth;

/// <summary>PostgreSQL's md5 password answer (AuthenticationMD5Password): "md5" + hex(md5(hex(md5(password + user)) + salt)).</summary>
public static class Md5Password
{
    /// <summary>Length of the answer in bytes: "md5" and 32 lowercase hex digits (no terminating NUL).</summary>
    public const int ResultLength = 3 + 32;

    /// <summary>Computes the md5 answer for <paramref name="user"/> and <paramref name="password"/> with the server's 4-byte salt.</summary>
    public static byte[] Compute(string user, string password, ReadOnlySpan<byte> salt4)
    {
        ArgumentNullException.ThrowIfNull(user);
        ArgumentNullException.ThrowIfNull(password);
        if (salt4.Length != 4)
        {
            throw new ArgumentException("The md5 salt must be exactly 4 bytes.", nameof(salt4));
        }

        // PostgreSQL hashes the bytes as the client sends them: UTF-8 here.
        int passwordLength = Encoding.UTF8.GetByteCount(password);
        int userLength = Encoding.UTF8.GetByteCount(user);
        byte[] inner = new byte[passwordLength + userLength];
        Span<byte> digest = stackalloc byte[MD5.HashSizeInBytes];
        Span<byte> outer = stackalloc byte[32 + 4];
        try
        {
            Encoding.UTF8.GetBytes(password, inner);
            Encoding.UTF8.GetBytes(user, inner.AsSpan(passwordLength));
            HashMd5(inner, digest);
            WriteLowerHex(digest, outer);
            salt4.CopyTo(outer[32..]);
            HashMd5(outer, digest);

            byte[] result = new byte[ResultLength];
            "md5"u8.CopyTo(result);
            WriteLowerHex(digest, result.AsSpan(3));
            return result;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(inner);
            CryptographicOperations.ZeroMemory(digest);
            CryptographicOperations.ZeroMemory(outer);
        }
    }

    // md5 is what the PostgreSQL protocol prescribes here; it is not our choice of hash.
#pragma warning disable CA5351
    private static void HashMd5(ReadOnlySpan<byte> source, Span<byte> destination) => MD5.HashData(source, destination);
#pragma warning restore CA5351

    private static void WriteLowerHex(ReadOnlySpan<byte> bytes, Span<byte> destination)
    {
        ReadOnlySpan<byte> digits = "0123456789abcdef"u8;
        for (int i = 0; i < bytes.Length; i++)
        {
            destination[2 * i] = digits[bytes[i] >> 4];
            destination[(2 * i) + 1] = digits[bytes[i] & 0xF];
        }
    }
}

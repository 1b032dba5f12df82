using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Appliance.Masking;

/// <summary>What kind of value a masked column carries, as far as masking cares.</summary>
public enum MaskedType : byte
{
    /// <summary>text, varchar, char(n), name, unknown: UTF-8 in both formats.</summary>
    Text,
    /// <summary>json, and jsonb in text format: the mask is written as a JSON string.</summary>
    Json,
    /// <summary>jsonb in binary format: a version byte, then JSON text.</summary>
    JsonbBinary,
    /// <summary>Anything else (integers, dates, bytea...): no mask fits the type, so NULL (or the result is refused).</summary>
    Unsupported,
}

/// <summary>Writes masked values. Allocates nothing.</summary>
public static class ValueMasker
{
    private static ReadOnlySpan<byte> Stars => "****"u8;

    /// <summary>Hash output: 16 hex digits (64 bits of HMAC-SHA256).</summary>
    public const int HashLength = 16;

    public static MaskedType TypeOf(uint typeOid, short format) => typeOid switch
    {
        25 or 1043 or 1042 or 19 or 705 => MaskedType.Text,
        114 => MaskedType.Json,
        3802 => format == 1 ? MaskedType.JsonbBinary : MaskedType.Json,
        _ => MaskedType.Unsupported,
    };

    /// <summary>Most bytes <see cref="Write"/> writes for a value of <paramref name="length"/> bytes.</summary>
    public static int MaxLength(int length) => Math.Max(length, HashLength) + 3;

    /// <summary>
    /// Writes the masked form of <paramref name="value"/> into <paramref name="destination"/> (at least
    /// <see cref="MaxLength"/> bytes) and returns its length; -1 means NULL.
    /// </summary>
    public static int Write(MaskStrategy strategy, MaskedType type, ReadOnlySpan<byte> value, IncrementalHash? hmac, Span<byte> destination)
    {
        switch (type)
        {
            case MaskedType.Text:
                return WriteText(strategy, value, hmac, destination);
            case MaskedType.Json:
            case MaskedType.JsonbBinary:
                int offset = 0;
                if (type == MaskedType.JsonbBinary)
                {
                    if (value.IsEmpty || value[0] != 1) return -1;
                    destination[offset++] = 1;
                    value = value[1..];
                }
                destination[offset++] = (byte)'"';
                // Inside a JSON string only redact and hash are safe: kept characters could be escapes.
                int n = strategy.Kind == MaskKind.Hash ? WriteHash(value, hmac, destination[offset..]) : Copy(Stars, destination[offset..]);
                offset += n;
                destination[offset++] = (byte)'"';
                return offset;
            default:
                return -1;
        }
    }

    private static int WriteText(MaskStrategy strategy, ReadOnlySpan<byte> value, IncrementalHash? hmac, Span<byte> destination)
    {
        switch (strategy.Kind)
        {
            case MaskKind.Hash:
                return WriteHash(value, hmac, destination);
            case MaskKind.Partial when System.Text.Ascii.IsValid(value):
                int shown = Math.Min(strategy.Keep, value.Length) == value.Length ? 0 : strategy.Keep;
                destination[..(value.Length - shown)].Fill((byte)'*');
                value[(value.Length - shown)..].CopyTo(destination[(value.Length - shown)..]);
                return value.Length;
            case MaskKind.Partial:
                int characters = 0;
                foreach (byte b in value)
                {
                    if ((b & 0xC0) != 0x80) characters++;
                }
                int hidden = characters <= strategy.Keep ? characters : characters - strategy.Keep;
                destination[..hidden].Fill((byte)'*');
                // Skip the hidden characters, keep the rest byte for byte.
                int start = 0, seen = 0;
                while (start < value.Length && seen < hidden)
                {
                    start++;
                    while (start < value.Length && (value[start] & 0xC0) == 0x80) start++;
                    seen++;
                }
                return hidden + Copy(value[start..], destination[hidden..]);
            default:
                return Copy(Stars, destination);
        }
    }

    /// <summary>A reusable HMAC-SHA256 for <paramref name="key"/>: one-shot HMAC sets the key up on every call, which costs more than the hash.</summary>
    public static IncrementalHash Hmac(byte[] key) => IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);

    private static int WriteHash(ReadOnlySpan<byte> value, IncrementalHash? hmac, Span<byte> destination)
    {
        Span<byte> mac = stackalloc byte[32];
        hmac!.AppendData(value);
        hmac.GetHashAndReset(mac);
        ulong bits = BinaryPrimitives.ReadUInt64BigEndian(mac);
        for (int i = HashLength - 1; i >= 0; i--)
        {
            destination[i] = (byte)"0123456789abcdef"[(int)(bits & 0xF)];
            bits >>= 4;
        }
        return HashLength;
    }

    private static int Copy(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source.CopyTo(destination);
        return source.Length;
    }
}

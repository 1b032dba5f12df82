using System.Text;
using System.Text.Unicode;

namespace Appliance.Recording;

/// <summary>
/// Writes a record payload: unsigned LEB128 varints, zigzag varints for signed numbers, strings and byte strings
/// as a varint length followed by the bytes (UTF-8 for strings). The caller sizes the buffer with
/// <see cref="MaxStringSize"/> and friends, so writes never run out of room.
/// </summary>
internal ref struct RecordPayloadWriter
{
    private readonly Span<byte> _buffer;
    private int _position;

    public RecordPayloadWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly int Length => _position;

    public readonly ReadOnlySpan<byte> Written => _buffer[.._position];

    public static int MaxStringSize(string? value, int maxChars = int.MaxValue) => 5 + Encoding.UTF8.GetMaxByteCount(Math.Min(value?.Length ?? 0, maxChars));

    public static int MaxBytesSize(int length) => 5 + length;

    public const int MaxVarIntSize = 10;

    public void WriteByte(byte value) => _buffer[_position++] = value;

    public void WriteVarUInt(ulong value)
    {
        while (value >= 0x80)
        {
            _buffer[_position++] = (byte)(value | 0x80);
            value >>= 7;
        }
        _buffer[_position++] = (byte)value;
    }

    public void WriteVarInt(long value) => WriteVarUInt((ulong)((value << 1) ^ (value >> 63)));

    public void WriteBytes(ReadOnlySpan<byte> value)
    {
        WriteVarUInt((ulong)value.Length);
        value.CopyTo(_buffer[_position..]);
        _position += value.Length;
    }

    /// <summary>Writes <paramref name="value"/> (null as empty), cut to at most <paramref name="maxChars"/> characters.</summary>
    public void WriteString(string? value, int maxChars = int.MaxValue)
    {
        var chars = (value ?? "").AsSpan();
        if (chars.Length > maxChars)
        {
            chars = chars[..maxChars];
            if (chars.Length > 0 && char.IsHighSurrogate(chars[^1]))
            {
                chars = chars[..^1];
            }
        }
        var length = Encoding.UTF8.GetByteCount(chars);
        WriteVarUInt((ulong)length);
        _position += Encoding.UTF8.GetBytes(chars, _buffer[_position..]);
    }

    /// <summary>
    /// Writes UTF-8 text as a string, cut to at most <paramref name="maxBytes"/> bytes on a character boundary.
    /// Invalid UTF-8 goes through <see cref="string"/> (each bad sequence becomes U+FFFD), as the string overload would
    /// record it; valid text (the usual case) is copied as is, with no string made.
    /// </summary>
    public void WriteUtf8String(ReadOnlySpan<byte> utf8, int maxBytes)
    {
        if (!Utf8.IsValid(utf8))
        {
            WriteString(Encoding.UTF8.GetString(utf8), maxBytes);
            return;
        }
        if (utf8.Length > maxBytes)
        {
            var cut = maxBytes;
            while (cut > 0 && (utf8[cut] & 0xC0) == 0x80)
            {
                cut--; // back to the first byte of the character that does not fit
            }
            utf8 = utf8[..cut];
        }
        WriteBytes(utf8);
    }

    /// <summary>Writes the names <paramref name="ranges"/> pick out of <paramref name="names"/> as a string list.</summary>
    public void WriteUtf8StringList(ReadOnlySpan<byte> names, ReadOnlySpan<Range> ranges, int maxItems, int maxBytes)
    {
        var count = Math.Min(ranges.Length, maxItems);
        WriteVarUInt((ulong)count);
        for (var i = 0; i < count; i++)
        {
            WriteUtf8String(names[ranges[i]], maxBytes);
        }
    }

    /// <summary>Room <see cref="WriteUtf8String"/> may need: invalid input can grow to three bytes per byte.</summary>
    public static int MaxUtf8StringSize(int length, int maxBytes) => 5 + 3 * Math.Min(length, maxBytes);

    public void WriteStringList(IReadOnlyList<string>? values, int maxItems, int maxChars)
    {
        var count = Math.Min(values?.Count ?? 0, maxItems);
        WriteVarUInt((ulong)count);
        for (var i = 0; i < count; i++)
        {
            WriteString(values![i], maxChars);
        }
    }
}

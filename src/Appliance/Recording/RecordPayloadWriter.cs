using System.Text;

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

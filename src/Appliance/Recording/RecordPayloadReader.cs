using System.Text;

namespace Appliance.Recording;

/// <summary>Reads what <see cref="RecordPayloadWriter"/> wrote. Every read checks the bounds; malformed input gives false, never an exception.</summary>
internal ref struct RecordPayloadReader
{
    private readonly ReadOnlySpan<byte> _buffer;
    private int _position;

    public RecordPayloadReader(ReadOnlySpan<byte> buffer)
    {
        _buffer = buffer;
        _position = 0;
    }

    public readonly bool AtEnd => _position == _buffer.Length;

    public bool TryReadByte(out byte value)
    {
        if (_position >= _buffer.Length)
        {
            value = 0;
            return false;
        }
        value = _buffer[_position++];
        return true;
    }

    public bool TryReadVarUInt(out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (!TryReadByte(out var b))
            {
                return false;
            }
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return shift < 63 || b <= 1;
            }
        }
        return false;
    }

    public bool TryReadVarInt(out long value)
    {
        var ok = TryReadVarUInt(out var raw);
        value = (long)(raw >> 1) ^ -(long)(raw & 1);
        return ok;
    }

    public bool TryReadLength(out int length)
    {
        length = 0;
        if (!TryReadVarUInt(out var raw) || raw > (ulong)(_buffer.Length - _position))
        {
            return false;
        }
        length = (int)raw;
        return true;
    }

    public bool TryReadBytes(out ReadOnlySpan<byte> value)
    {
        value = default;
        if (!TryReadLength(out var length))
        {
            return false;
        }
        value = _buffer.Slice(_position, length);
        _position += length;
        return true;
    }

    public bool TryReadString(out string value)
    {
        value = "";
        if (!TryReadBytes(out var bytes))
        {
            return false;
        }
        value = Encoding.UTF8.GetString(bytes);
        return true;
    }

    public bool TryReadStringList(out List<string> values)
    {
        values = [];
        if (!TryReadLength(out var count))
        {
            return false;
        }
        for (var i = 0; i < count; i++)
        {
            if (!TryReadString(out var value))
            {
                return false;
            }
            values.Add(value);
        }
        return true;
    }
}

using System.Buffers;
using System.Security.Cryptography;
using System.Buffers.Binary;
using System.Text;

namespace Appliance.Masking;

/// <summary>
/// How to mask the rows of one result, worked out once from its RowDescription. Columns that need no
/// mask cost nothing per row beyond skipping them.
/// </summary>
public sealed class MaskPlan
{
    /// <summary>A plan that masks nothing.</summary>
    public static MaskPlan None { get; } = new([], [], [], [], [], null);

    private readonly MaskStrategy[] _strategies;
    private readonly MaskedType[] _types;
    // Per column, for hash masks: the session's HMAC for the column's scope (used by its upstream side only).
    private readonly IncrementalHash?[] _hmacs;

    public MaskPlan(bool[] masked, MaskStrategy[] strategies, uint[] typeOids, short[] formats, IncrementalHash?[] hmacs, string? refusal)
    {
        Masked = masked;
        _strategies = strategies;
        TypeOids = typeOids;
        _hmacs = hmacs;
        Refusal = refusal;
        _types = new MaskedType[masked.Length];
        Formats = formats;
        for (int i = 0; i < masked.Length; i++)
        {
            _types[i] = ValueMasker.TypeOf(typeOids[i], formats[i]);
            HasMasks |= masked[i];
            DependsOnFormat |= masked[i] && typeOids[i] == JsonbOid;
        }
    }

    private const uint JsonbOid = 3802;

    /// <summary>Only a masked jsonb column is written differently in binary (a version byte first).</summary>
    private bool DependsOnFormat { get; }

    public bool[] Masked { get; }
    public uint[] TypeOids { get; }
    public short[] Formats { get; }
    public bool HasMasks { get; }

    /// <summary>Set when a masked column cannot carry its mask and its rule says refuse.</summary>
    public string? Refusal { get; }

    /// <summary>The same columns with the result formats of a Bind (0 codes: all text; 1: all alike; else one per column).</summary>
    public MaskPlan WithFormats(short[] bindFormats)
    {
        if (!DependsOnFormat) return this;
        var formats = new short[Masked.Length];
        for (int i = 0; i < formats.Length; i++)
        {
            formats[i] = bindFormats.Length switch { 0 => (short)0, 1 => bindFormats[0], _ => i < bindFormats.Length ? bindFormats[i] : (short)0 };
        }
        return new MaskPlan(Masked, _strategies, TypeOids, formats, _hmacs, Refusal);
    }

    /// <summary>Bytes a masked message may need for a payload of <paramref name="length"/> bytes.</summary>
    public int MaxMaskedLength(int length) => 5 + length + Masked.Length * (ValueMasker.HashLength + 3);

    /// <summary>
    /// Writes the DataRow (whole message, type and length included) with its masked columns replaced into
    /// <paramref name="span"/> (<see cref="MaxMaskedLength"/> bytes); returns its length, or -1 when the row is
    /// malformed or does not match the plan.
    /// </summary>
    public int WriteMasked(ReadOnlySpan<byte> payload, Span<byte> span)
    {
        if (payload.Length < 2) return -1;
        int count = BinaryPrimitives.ReadInt16BigEndian(payload);
        if (count != Masked.Length) return -1;
        span[0] = (byte)'D';
        payload[..2].CopyTo(span[5..]);
        int read = 2, written = 7;
        for (int i = 0; i < count; i++)
        {
            if (payload.Length - read < 4) return -1;
            int length = BinaryPrimitives.ReadInt32BigEndian(payload[read..]);
            read += 4;
            if (length < -1 || payload.Length - read < Math.Max(length, 0)) return -1;
            var value = length < 0 ? default : payload.Slice(read, length);
            read += Math.Max(length, 0);
            if (Masked[i] && length >= 0)
            {
                int n = ValueMasker.Write(_strategies[i], _types[i], value, _hmacs[i], span[(written + 4)..]);
                BinaryPrimitives.WriteInt32BigEndian(span[written..], n);
                written += 4 + Math.Max(n, 0);
            }
            else
            {
                BinaryPrimitives.WriteInt32BigEndian(span[written..], length);
                value.CopyTo(span[(written + 4)..]);
                written += 4 + value.Length;
            }
        }
        if (read != payload.Length) return -1;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], written - 1);
        return written;
    }

    /// <summary>
    /// Masks one COPY row in text or CSV format (one CopyData message body) into the CopyData message it
    /// becomes, in <paramref name="span"/> (<see cref="MaxMaskedLength"/> bytes). Masked fields are replaced;
    /// NULL fields stay NULL. Returns the length, or -1 when the row does not parse or match the columns.
    /// </summary>
    public int WriteMaskedCopyRow(ReadOnlySpan<byte> row, CopyFormat format, Span<byte> span)
    {
        span[0] = (byte)'d';
        int written = 5, column = 0, start = 0;
        bool csv = format.Csv;
        while (true)
        {
            int end = FieldEnd(row, start, format);
            if (end < 0) return -1;
            var field = row[start..end];
            if (column >= Masked.Length) return -1;
            if (Masked[column] && !field.SequenceEqual(format.Null))
            {
                // Masks hold no delimiter, quote or backslash, so they need no quoting.
                var raw = csv && field.Length >= 2 && field[0] == '"' ? field[1..^1] : field;
                var strategy = _strategies[column];
                // Kept characters are copied as they stand in the row: only when no escape or quote is among them.
                if (strategy.Kind == MaskKind.Partial && raw.IndexOfAny((byte)'\\', (byte)'"') >= 0)
                {
                    strategy = MaskStrategy.Redact;
                }
                written += ValueMasker.Write(strategy, MaskedType.Text, raw, _hmacs[column], span[written..]);
            }
            else
            {
                field.CopyTo(span[written..]);
                written += field.Length;
            }
            column++;
            if (end >= row.Length || row[end] == '\n' || (row[end] == '\r' && end + 1 < row.Length && row[end + 1] == '\n'))
            {
                row[end..].CopyTo(span[written..]);
                written += row.Length - end;
                break;
            }
            span[written++] = format.Delimiter;
            start = end + 1;
        }
        if (column != Masked.Length) return -1;
        BinaryPrimitives.WriteInt32BigEndian(span[1..], written - 1);
        return written;
    }

    /// <summary>Where the field starting at <paramref name="start"/> ends (at a delimiter, a line end or the end); -1 on a broken quote.</summary>
    private static int FieldEnd(ReadOnlySpan<byte> row, int start, CopyFormat format)
    {
        int i = start;
        if (format.Csv && i < row.Length && row[i] == '"')
        {
            i++;
            while (true)
            {
                if (i >= row.Length) return -1;
                if (row[i] == '"')
                {
                    if (i + 1 < row.Length && row[i + 1] == '"') { i += 2; continue; }
                    i++;
                    break;
                }
                i++;
            }
            return i < row.Length && row[i] != format.Delimiter && row[i] != '\n' && row[i] != '\r' ? -1 : i;
        }
        while (i < row.Length && row[i] != format.Delimiter && row[i] != '\n' && row[i] != '\r')
        {
            // Text format: a backslash escapes the next byte, which may be the delimiter.
            if (!format.Csv && row[i] == '\\') i++;
            i++;
        }
        return Math.Min(i, row.Length);
    }

}

/// <summary>A COPY TO STDOUT's row format, read from its options.</summary>
public sealed record CopyFormat(bool Csv, byte Delimiter, byte[] Null, bool Header)
{
    public static CopyFormat Text { get; } = new(false, (byte)'\t', Encoding.ASCII.GetBytes("\\N"), false);
    public static CopyFormat CsvDefault { get; } = new(true, (byte)',', [], false);
}

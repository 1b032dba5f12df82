using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace Appliance.Protocols.Postgres;

/// <summary>Reads the untyped packets a client sends before authentication.</summary>
public static class PgStartupReader
{
    /// <summary>Reads one startup-phase packet; advances only on <see cref="OperationStatus.Done"/>.</summary>
    public static OperationStatus TryRead(ref SequenceReader<byte> reader, int maxLength, out PgStartupPacket packet)
    {
        packet = default;
        Span<byte> header = stackalloc byte[8];
        if (!reader.TryCopyTo(header))
        {
            // A length word alone is enough to refuse an oversized or undersized packet early.
            if (reader.Remaining >= 4)
            {
                Span<byte> word = stackalloc byte[4];
                reader.TryCopyTo(word);
                int early = BinaryPrimitives.ReadInt32BigEndian(word);
                if (early < 8 || early > maxLength)
                {
                    packet = new PgStartupPacket(early, 0, default);
                    return OperationStatus.InvalidData;
                }
            }
            return OperationStatus.NeedMoreData;
        }
        int length = BinaryPrimitives.ReadInt32BigEndian(header);
        int code = BinaryPrimitives.ReadInt32BigEndian(header[4..]);
        if (length < 8 || length > maxLength)
        {
            packet = new PgStartupPacket(length, code, default);
            return OperationStatus.InvalidData;
        }
        if (reader.Remaining < length)
        {
            return OperationStatus.NeedMoreData;
        }
        packet = new PgStartupPacket(length, code, reader.UnreadSequence.Slice(8, length - 8));
        reader.Advance(length);
        return OperationStatus.Done;
    }

    /// <summary>
    /// Parses the name/value pairs of a protocol 3.0 StartupMessage body. Runs once per connection,
    /// so it builds strings. Returns false with a reason on malformed input.
    /// </summary>
    public static bool TryParseParameters(ReadOnlySequence<byte> body, List<KeyValuePair<string, string>> parameters, out string error)
    {
        var reader = new SequenceReader<byte>(body);
        while (true)
        {
            if (!reader.TryReadTo(out ReadOnlySequence<byte> name, 0))
            {
                error = "startup parameters are not terminated";
                return false;
            }
            if (name.IsEmpty)
            {
                break;
            }
            if (!reader.TryReadTo(out ReadOnlySequence<byte> value, 0))
            {
                error = "startup parameter has no value";
                return false;
            }
            if (!TryDecode(name, out string n) || !TryDecode(value, out string v))
            {
                error = "startup parameter is not valid UTF-8";
                return false;
            }
            foreach (var p in parameters)
            {
                if (p.Key == n)
                {
                    error = "startup parameter is repeated";
                    return false;
                }
            }
            parameters.Add(new(n, v));
        }
        if (!reader.End)
        {
            error = "unexpected bytes after the startup parameters";
            return false;
        }
        error = "";
        return true;
    }

    private static readonly UTF8Encoding s_strictUtf8 = new(false, true);

    private static bool TryDecode(ReadOnlySequence<byte> bytes, out string text)
    {
        try
        {
            text = s_strictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }
}

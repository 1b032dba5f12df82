using System.Buffers;
using System.Text;

namespace Appliance.Protocols.Postgres;

/// <summary>The fields of an ErrorResponse or NoticeResponse that the gateway reports on.</summary>
public readonly record struct PgErrorFields(string Severity, string SqlState, string Message)
{
    /// <summary>Parses an ErrorResponse/NoticeResponse payload. Off the hot path (errors only).</summary>
    public static PgErrorFields Parse(ReadOnlySequence<byte> payload)
    {
        string severity = "", state = "", message = "";
        var reader = new SequenceReader<byte>(payload);
        while (reader.TryRead(out byte code) && code != 0)
        {
            if (!reader.TryReadTo(out ReadOnlySequence<byte> value, 0))
            {
                break;
            }
            switch ((char)code)
            {
                case 'V': severity = Encoding.UTF8.GetString(value); break;
                case 'S' when severity.Length == 0: severity = Encoding.UTF8.GetString(value); break;
                case 'C': state = Encoding.UTF8.GetString(value); break;
                case 'M': message = Encoding.UTF8.GetString(value); break;
            }
        }
        return new PgErrorFields(severity, state, message);
    }
}

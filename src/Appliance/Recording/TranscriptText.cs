using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Appliance.Recording;

/// <summary>
/// Renders recorded sessions as terminal text. Everything recorded came from clients or servers, so control
/// characters are escaped (<c>\x1b</c>) before they reach a terminal; long values are cut.
/// </summary>
public static class TranscriptText
{
    private const int MaxValueChars = 200;
    private static readonly UTF8Encoding s_strictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The lines describing a session before its records.</summary>
    public static void WriteHeader(TextWriter output, SessionOverview session)
    {
        output.WriteLine($"session {session.SessionId}");
        if (session.Start is { } s)
        {
            output.WriteLine($"  principal  {Escape(s.Subject)}" + (s.Issuer.Length > 0 ? $" (issuer {Escape(s.Issuer)})" : ""));
            output.WriteLine($"  roles      {(s.Roles.Count == 0 ? "-" : Escape(string.Join(", ", s.Roles)))}");
            if (s.ClaimsDigest.Length > 0)
            {
                output.WriteLine($"  claims     sha256 {Escape(s.ClaimsDigest)}");
            }
            output.WriteLine($"  target     {Escape(s.Target)} ({Escape(s.TargetKind)})");
            output.WriteLine($"  client     {(s.ClientAddress.Length == 0 ? "-" : Escape(s.ClientAddress))}, "
                + (s.TlsProtocol.Length == 0 ? "no TLS" : $"TLS {Escape(s.TlsProtocol)}"));
        }
        else
        {
            output.WriteLine("  (no session-start record: it was deleted by retention, or the session began before recording)");
        }
        output.WriteLine($"  started    {Time(session.Started)}");
        if (session.End is { } e)
        {
            output.WriteLine($"  ended      {Time(e.Time)} after {Duration(session.Duration)}: {Escape(e.Reason)}");
            output.WriteLine($"  traffic    {e.BytesFromClient} bytes from the client, {e.BytesFromServer} bytes from the server, {e.Statements} statements");
        }
        else
        {
            output.WriteLine($"  ended      {session.Outcome}; last record at {Time(session.LastRecord)}");
        }
        output.WriteLine();
    }

    /// <summary>One record as transcript lines, timed from <paramref name="start"/>.</summary>
    public static void WriteEvent(TextWriter output, RecordedEvent e, DateTimeOffset start, ref long statementNumber)
    {
        var at = Offset(e.Time - start);
        const string Pad = "            ";
        switch (e)
        {
            case SessionStartRecord:
                output.WriteLine($"{at}  START");
                break;
            case StatementRecord st:
                statementNumber++;
                var rule = st.Rule >= 0 ? $" (rule {st.Rule})" : "";
                var tables = st.Tables.Count > 0 ? $"  tables: {Escape(string.Join(", ", st.Tables))}" : "";
                output.WriteLine($"{at}  #{statementNumber} {Escape(st.StatementClass)} -> {Escape(st.Decision)}{rule}{tables}");
                foreach (var line in Utf8(st.Text).Split('\n'))
                {
                    output.WriteLine($"{Pad}  {Escape(line.TrimEnd('\r'), int.MaxValue)}");
                }
                if (st.TextTruncated)
                {
                    output.WriteLine($"{Pad}  ... (statement cut: {st.TextLength} bytes in all)");
                }
                break;
            case ResultRowsRecord rows:
                foreach (var row in rows.Rows)
                {
                    output.WriteLine($"{Pad}  | {Row(row)} |");
                }
                break;
            case ResultRecord r when r.IsError:
                output.WriteLine($"{at}     ERROR {Escape(r.SqlState)}: {Escape(r.Message, 2000)}");
                break;
            case ResultRecord r:
                var count = r.Rows >= 0 ? $" ({r.Rows} rows)" : "";
                output.WriteLine($"{at}     {Escape(r.CommandTag)}{count}");
                if (r.RowsTruncated)
                {
                    output.WriteLine($"{Pad}  ... ({r.RowsRecorded} rows recorded; the rest exceeded record.max_result_bytes)");
                }
                break;
            case NoticeRecord n:
                output.WriteLine($"{at}     {Escape(n.Severity)} {Escape(n.SqlState)}: {Escape(n.Message, 2000)}");
                break;
            case ApprovalRecord a:
                output.WriteLine($"{at}  APPROVAL {Escape(a.Event)} {Escape(a.RequestId)} by {Escape(a.Actor)}: {Escape(a.Detail, 2000)}");
                break;
            case SessionEndRecord end:
                output.WriteLine($"{at}  END {Escape(end.Reason)}");
                break;
            case MalformedRecord m:
                output.WriteLine($"{at}  (record of type {m.Type}, {m.Length} bytes, that this version cannot read)");
                break;
        }
    }

    /// <summary>The columns of a DataRow body as text: NULL, the text, or <c>\x…</c> hex for bytes that are not UTF-8.</summary>
    public static string Row(ReadOnlySpan<byte> dataRow)
    {
        if (dataRow.Length < 2)
        {
            return "(malformed row)";
        }
        var columns = BinaryPrimitives.ReadInt16BigEndian(dataRow);
        var rest = dataRow[2..];
        var text = new StringBuilder();
        for (var i = 0; i < columns; i++)
        {
            if (rest.Length < 4)
            {
                return text + "(malformed row)";
            }
            var length = BinaryPrimitives.ReadInt32BigEndian(rest);
            rest = rest[4..];
            if (i > 0)
            {
                text.Append(" | ");
            }
            if (length < 0)
            {
                text.Append("NULL");
                continue;
            }
            if (length > rest.Length)
            {
                return text + "(malformed row)";
            }
            text.Append(Value(rest[..length]));
            rest = rest[length..];
        }
        return text.ToString();
    }

    /// <summary>One column value: text if it is UTF-8, else hex; escaped and cut.</summary>
    public static string Value(ReadOnlySpan<byte> value)
    {
        try
        {
            return Escape(s_strictUtf8.GetString(value), MaxValueChars);
        }
        catch (DecoderFallbackException)
        {
            var hex = Convert.ToHexStringLower(value[..Math.Min(value.Length, MaxValueChars / 2)]);
            return "\\x" + hex + (value.Length > MaxValueChars / 2 ? "..." : "");
        }
    }

    /// <summary>Escapes control characters (C0, DEL, C1) as <c>\xHH</c>; keeps tabs; cuts at <paramref name="maxChars"/>.</summary>
    public static string Escape(string text, int maxChars = 1000)
    {
        var cut = text.Length > maxChars;
        var span = cut ? text.AsSpan(0, maxChars) : text.AsSpan();
        var needs = false;
        foreach (var c in span)
        {
            if (IsControl(c))
            {
                needs = true;
                break;
            }
        }
        if (!needs)
        {
            return cut ? string.Concat(span, "...") : text;
        }
        var escaped = new StringBuilder(span.Length + 16);
        foreach (var c in span)
        {
            if (IsControl(c))
            {
                escaped.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
            }
            else
            {
                escaped.Append(c);
            }
        }
        return cut ? escaped.Append("...").ToString() : escaped.ToString();
    }

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            duration = TimeSpan.Zero;
        }
        if (duration.TotalHours >= 1)
        {
            return $"{(int)duration.TotalHours}h{duration.Minutes:00}m{duration.Seconds:00}s";
        }
        return duration.TotalMinutes >= 1
            ? $"{duration.Minutes}m{duration.Seconds:00}s"
            : duration.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + "s";
    }

    private static string Offset(TimeSpan since) => "+" + Math.Max(0, since.TotalSeconds).ToString("0.000", CultureInfo.InvariantCulture).PadLeft(9) + "s";

    private static string Utf8(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    private static bool IsControl(char c) => (c < 0x20 && c != '\t') || c is >= '\u007f' and <= '\u009f';
}

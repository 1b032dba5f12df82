using System.CommandLine;
using System.Globalization;
using Appliance.Configuration;
using Appliance.Identity;
using Appliance.Recording;
using Appliance.Storage;

namespace Appliance.Cli;

/// <summary><c>appliance sessions list|show|replay</c>: recorded sessions, read from the session store.</summary>
internal static class SessionsCommand
{
    public static Command Create() => new("sessions", "List, show and replay recorded sessions")
    {
        List(),
        Show(),
        Replay(),
    };

    private static Command List()
    {
        var store = new StoreLocation();
        var since = new Option<string>("--since") { Description = "Only sessions active since: a duration back from now (1h, 30m) or a UTC time (2025-06-01T12:00:00Z)" };
        var principal = new Option<string>("--principal") { Description = "Only sessions of principals matching this subject (globs with *, e.g. 'repo:acme/*')" };
        var target = new Option<string>("--target") { Description = "Only sessions to this target (globs with *)" };
        var command = new Command("list", "List recorded sessions: principal, target, start, duration, statements, outcome") { since, principal, target };
        store.AddTo(command);
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            if (store.Resolve(parse, error) is not { } dir)
            {
                return 2;
            }
            DateTimeOffset? from = null;
            if (parse.GetValue(since) is { } sinceText)
            {
                if (!TryParseSince(sinceText, TimeProvider.System.GetUtcNow(), out var parsed))
                {
                    error.WriteLine($"appliance: --since: expected a duration such as 1h or 30m, or a UTC time, got '{TranscriptText.Escape(sinceText, 64)}'");
                    return 2;
                }
                from = parsed;
            }
            return ListSessions(dir, from, parse.GetValue(principal), parse.GetValue(target), parse.GetValue(store.Json), output, error);
        });
        return command;
    }

    internal static int ListSessions(string dir, DateTimeOffset? since, string? principal, string? target, bool json, TextWriter output, TextWriter error)
    {
        var principalGlob = principal is null ? null : GlobPattern.Compile(principal);
        var targetGlob = target is null ? null : GlobPattern.Compile(target);
        using var reader = StoreReader.Open(dir);
        var sessions = new List<SessionOverview>();
        try
        {
            foreach (var summary in reader.ListSessions())
            {
                if (since is { } from && summary.LastRecord < from)
                {
                    continue;
                }
                var overview = SessionTranscript.Overview(reader, summary);
                if ((principalGlob is null || principalGlob.IsMatch(overview.Subject)) && (targetGlob is null || targetGlob.IsMatch(overview.Target)))
                {
                    sessions.Add(overview);
                }
            }
        }
        catch (StoreReadException e)
        {
            error.WriteLine($"appliance: damaged block at {e.Message}; run 'appliance store verify'");
            return 1;
        }
        sessions.Sort((a, b) => a.Started.CompareTo(b.Started));
        ReportWarnings(reader, error);
        if (json)
        {
            CliJson.Write(output, sessions.Select(s => new
            {
                id = s.SessionId, principal = s.Subject, issuer = s.Start?.Issuer, roles = s.Start?.Roles, target = s.Target,
                client = s.Start?.ClientAddress, start = s.Started, end = s.End?.Time, durationSeconds = s.Duration.TotalSeconds,
                statements = s.Statements, denied = s.Denied, errors = s.Errors, ended = s.End is not null, outcome = s.Outcome,
            }));
            return 0;
        }
        if (sessions.Count == 0)
        {
            output.WriteLine("no sessions" + (since is not null || principal is not null || target is not null ? " match" : " recorded"));
            return 0;
        }
        var rows = sessions.Select(s => new[]
        {
            s.SessionId.ToString(), TranscriptText.Escape(s.Subject, 60), TranscriptText.Escape(s.Target, 30), TranscriptText.Time(s.Started)[..19],
            TranscriptText.Duration(s.Duration), s.Statements.ToString(CultureInfo.InvariantCulture) + (s.Denied > 0 ? $" ({s.Denied} denied)" : ""),
            TranscriptText.Escape(s.End is null ? "open/interrupted" : s.Outcome, 60),
        }).ToList();
        string[] headings = ["SESSION", "PRINCIPAL", "TARGET", "START (UTC)", "DURATION", "STATEMENTS", "OUTCOME"];
        var widths = headings.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine(string.Join("  ", headings.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var row in rows)
        {
            output.WriteLine(string.Join("  ", row.Select((v, i) => v.PadRight(widths[i]))).TrimEnd());
        }
        return 0;
    }

    private static Command Show()
    {
        var store = new StoreLocation();
        var id = new Argument<string>("id") { Description = "Session id (or its first digits)" };
        var command = new Command("show", "Print a session's transcript: statements, decisions, results and recorded rows") { id };
        store.AddTo(command);
        command.SetAction(parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            if (store.Resolve(parse, error) is not { } dir)
            {
                return 2;
            }
            return ShowSession(dir, parse.GetValue(id)!, parse.GetValue(store.Json), parse.InvocationConfiguration.Output, error);
        });
        return command;
    }

    internal static int ShowSession(string dir, string id, bool json, TextWriter output, TextWriter error)
    {
        using var reader = StoreReader.Open(dir);
        if (SessionTranscript.Find(reader, id, out var problem) is not { } summary)
        {
            error.WriteLine($"appliance: {problem}");
            return 1;
        }
        try
        {
            if (json)
            {
                CliJson.Write(output, new { id = summary.SessionId, records = SessionTranscript.Read(reader, summary.SessionId).Select(JsonRecord).ToList() });
            }
            else
            {
                var overview = SessionTranscript.Overview(reader, summary);
                TranscriptText.WriteHeader(output, overview);
                long statement = 0;
                foreach (var e in SessionTranscript.Read(reader, summary.SessionId))
                {
                    TranscriptText.WriteEvent(output, e, overview.Started, ref statement);
                }
            }
        }
        catch (StoreReadException e)
        {
            error.WriteLine($"appliance: damaged block at {e.Message}; run 'appliance store verify'");
            return 1;
        }
        ReportWarnings(reader, error);
        return 0;
    }

    private static Command Replay()
    {
        var store = new StoreLocation();
        var id = new Argument<string>("id") { Description = "Session id (or its first digits)" };
        var speed = new Option<double>("--speed") { Description = "How many times faster than it happened; 0 prints without waiting", DefaultValueFactory = _ => 1 };
        var command = new Command("replay", "Replay a session's transcript with its original timing (or faster)") { id, speed };
        store.AddTo(command);
        command.SetAction(async (parse, ct) =>
        {
            var error = parse.InvocationConfiguration.Error;
            if (store.Resolve(parse, error) is not { } dir)
            {
                return 2;
            }
            var factor = parse.GetValue(speed);
            if (factor < 0 || double.IsNaN(factor) || double.IsInfinity(factor))
            {
                error.WriteLine("appliance: --speed must be 0 (no waiting) or a positive number");
                return 2;
            }
            return await ReplaySession(dir, parse.GetValue(id)!, factor, parse.InvocationConfiguration.Output, error, Task.Delay, ct);
        });
        return command;
    }

    /// <summary>Prints the transcript, waiting before each record for the time that passed before it, divided by <paramref name="speed"/>.</summary>
    internal static async Task<int> ReplaySession(string dir, string id, double speed, TextWriter output, TextWriter error,
        Func<TimeSpan, CancellationToken, Task> delay, CancellationToken cancellationToken)
    {
        using var reader = StoreReader.Open(dir);
        if (SessionTranscript.Find(reader, id, out var problem) is not { } summary)
        {
            error.WriteLine($"appliance: {problem}");
            return 1;
        }
        try
        {
            var overview = SessionTranscript.Overview(reader, summary);
            TranscriptText.WriteHeader(output, overview);
            var previous = overview.Started;
            long statement = 0;
            foreach (var e in SessionTranscript.Read(reader, summary.SessionId))
            {
                var gap = e.Time - previous;
                if (speed > 0 && gap > TimeSpan.Zero)
                {
                    await output.FlushAsync(cancellationToken);
                    await delay(gap / speed, cancellationToken);
                }
                previous = e.Time > previous ? e.Time : previous;
                TranscriptText.WriteEvent(output, e, overview.Started, ref statement);
            }
        }
        catch (OperationCanceledException)
        {
            return 130;
        }
        catch (StoreReadException e)
        {
            error.WriteLine($"appliance: damaged block at {e.Message}; run 'appliance store verify'");
            return 1;
        }
        return 0;
    }

    /// <summary><c>--since</c>: a duration back from <paramref name="now"/>, or an absolute time (UTC unless it says otherwise).</summary>
    internal static bool TryParseSince(string text, DateTimeOffset now, out DateTimeOffset since)
    {
        if (DurationText.TryParse(text, out var back))
        {
            since = now - back;
            return true;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out since);
    }

    private static object JsonRecord(RecordedEvent e)
    {
        var common = new Dictionary<string, object?> { ["sequence"] = e.Sequence, ["time"] = e.Time };
        switch (e)
        {
            case SessionStartRecord s:
                common["type"] = "session_start";
                common["principal"] = s.Subject;
                common["issuer"] = s.Issuer;
                common["roles"] = s.Roles;
                common["claimsDigest"] = s.ClaimsDigest;
                common["target"] = s.Target;
                common["targetKind"] = s.TargetKind;
                common["client"] = s.ClientAddress;
                common["tls"] = s.TlsProtocol;
                break;
            case StatementRecord st:
                common["type"] = "statement";
                common["text"] = System.Text.Encoding.UTF8.GetString(st.Text);
                common["textTruncated"] = st.TextTruncated;
                common["class"] = st.StatementClass;
                common["tables"] = st.Tables;
                common["decision"] = st.Decision;
                common["rule"] = st.Rule;
                break;
            case ResultRecord r:
                common["type"] = "result";
                common["commandTag"] = r.CommandTag;
                common["rows"] = r.Rows;
                common["sqlState"] = r.IsError ? r.SqlState : null;
                common["message"] = r.IsError ? r.Message : null;
                common["rowsRecorded"] = r.RowsRecorded;
                common["rowsTruncated"] = r.RowsTruncated;
                break;
            case ResultRowsRecord rows:
                common["type"] = "rows";
                common["rows"] = rows.Rows.Select(RowValues).ToList();
                break;
            case NoticeRecord n:
                common["type"] = "notice";
                common["severity"] = n.Severity;
                common["sqlState"] = n.SqlState;
                common["message"] = n.Message;
                break;
            case ApprovalRecord a:
                common["type"] = "approval";
                common["event"] = a.Event;
                common["requestId"] = a.RequestId;
                common["actor"] = a.Actor;
                common["detail"] = a.Detail;
                break;
            case SessionEndRecord end:
                common["type"] = "session_end";
                common["reason"] = end.Reason;
                common["bytesFromClient"] = end.BytesFromClient;
                common["bytesFromServer"] = end.BytesFromServer;
                common["statements"] = end.Statements;
                break;
            case MalformedRecord m:
                common["type"] = "unreadable";
                common["recordType"] = m.Type;
                common["length"] = m.Length;
                break;
        }
        return common;
    }

    // A DataRow body as an array of column values (text, or \x hex; null for SQL NULL); null when malformed.
    private static List<string?>? RowValues(byte[] row)
    {
        var span = row.AsSpan();
        if (span.Length < 2)
        {
            return null;
        }
        var values = new List<string?>();
        var columns = System.Buffers.Binary.BinaryPrimitives.ReadInt16BigEndian(span);
        span = span[2..];
        for (var i = 0; i < columns; i++)
        {
            if (span.Length < 4)
            {
                return null;
            }
            var length = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(span);
            span = span[4..];
            if (length < 0)
            {
                values.Add(null);
                continue;
            }
            if (length > span.Length)
            {
                return null;
            }
            values.Add(TranscriptText.Value(span[..length]));
            span = span[length..];
        }
        return values;
    }

    private static void ReportWarnings(StoreReader reader, TextWriter error)
    {
        foreach (var warning in reader.Warnings)
        {
            error.WriteLine($"appliance: warning: {warning}");
        }
    }
}

using Appliance.Storage;

namespace Appliance.Recording;

/// <summary>Reads recorded sessions back from a store: finding one by id or prefix, its records decoded, an overview.</summary>
public static class SessionTranscript
{
    /// <summary>A session's records, decoded, in the order they were recorded.</summary>
    public static IEnumerable<RecordedEvent> Read(StoreReader reader, Guid sessionId)
    {
        using var cursor = reader.ReadSession(sessionId);
        foreach (var record in cursor)
        {
            yield return RecordCodec.Decode(record);
        }
    }

    /// <summary>Reads the session's records to give its start, end and counts.</summary>
    public static SessionOverview Overview(StoreReader reader, SessionSummary summary)
    {
        SessionStartRecord? start = null;
        SessionEndRecord? end = null;
        long statements = 0, denied = 0, errors = 0;
        foreach (var e in Read(reader, summary.SessionId))
        {
            switch (e)
            {
                case SessionStartRecord s:
                    start ??= s;
                    break;
                case SessionEndRecord x:
                    end = x;
                    break;
                case StatementRecord st:
                    statements++;
                    denied += st.Decision == "allow" ? 0 : 1;
                    break;
                case ResultRecord { IsError: true }:
                    errors++;
                    break;
            }
        }
        return new SessionOverview
        {
            SessionId = summary.SessionId, Start = start, End = end, FirstRecord = summary.FirstRecord, LastRecord = summary.LastRecord,
            Statements = statements, Denied = denied, Errors = errors,
        };
    }

    /// <summary>
    /// Finds a session by its id, or by a unique prefix of its 32 hex digits (dashes optional); null with a
    /// reason when there is none or more than one.
    /// </summary>
    public static SessionSummary? Find(StoreReader reader, string idOrPrefix, out string? problem)
    {
        problem = null;
        var sessions = reader.ListSessions();
        if (Guid.TryParse(idOrPrefix, out var exact))
        {
            var found = sessions.FirstOrDefault(s => s.SessionId == exact);
            problem = found is null ? $"no session {exact} in the store" : null;
            return found;
        }
        var prefix = idOrPrefix.Replace("-", "", StringComparison.Ordinal).ToLowerInvariant();
        if (prefix.Length < 4 || prefix.Any(c => !char.IsAsciiHexDigit(c)))
        {
            problem = $"'{UntrustedTextForCli(idOrPrefix)}' is not a session id (32 hex digits, or at least the first 4)";
            return null;
        }
        var matches = sessions.Where(s => s.SessionId.ToString("N").StartsWith(prefix, StringComparison.Ordinal)).Take(2).ToList();
        problem = matches.Count switch
        {
            0 => $"no session starting with {prefix} in the store",
            > 1 => $"more than one session starts with {prefix}; give more digits",
            _ => null,
        };
        return matches.Count == 1 ? matches[0] : null;
    }

    private static string UntrustedTextForCli(string text) => TranscriptText.Escape(text, 64);
}

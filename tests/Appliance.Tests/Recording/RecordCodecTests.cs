using System.Text;
using Appliance.Recording;
using CsCheck;

namespace Appliance.Tests.Recording;

public sealed class RecordCodecTests
{
    private static readonly Gen<string> s_text = Gen.String[0, 80];
    private static readonly DateTimeOffset s_time = new(2025, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private static RecordedEvent Decode(RecordKind kind, ReadOnlySpan<byte> payload) =>
        RecordCodec.Decode((byte)kind, Guid.Empty, 7, s_time, payload);

    private static byte[] Encode(int size, WriteAction write)
    {
        var buffer = new byte[size];
        var w = new RecordPayloadWriter(buffer);
        write(ref w);
        return w.Written.ToArray();
    }

    private delegate void WriteAction(ref RecordPayloadWriter w);

    [Fact]
    public void SessionStart_RoundTrips()
    {
        Gen.Select(s_text, s_text, s_text.Array[0, 5], s_text, s_text, s_text).Sample((subject, issuer, roles, target, client, tls) =>
        {
            var info = new SessionStartInfo { Subject = subject, Issuer = issuer, Roles = roles, ClaimsDigest = "d", Target = target, ClientAddress = client, TlsProtocol = tls };
            var payload = Encode(RecordCodec.SessionStartSize(info), (ref RecordPayloadWriter w) => RecordCodec.WriteSessionStart(ref w, info));
            var decoded = Assert.IsType<SessionStartRecord>(Decode(RecordKind.SessionStart, payload));
            Assert.Equal((subject, issuer, "d", target, "postgres", client, tls),
                (decoded.Subject, decoded.Issuer, decoded.ClaimsDigest, decoded.Target, decoded.TargetKind, decoded.ClientAddress, decoded.TlsProtocol));
            Assert.Equal(roles, decoded.Roles);
        });
    }

    [Fact]
    public void Statement_RoundTrips()
    {
        Gen.Select(Gen.Byte.Array[0, 300], s_text, s_text.Array[0, 4], s_text, Gen.Int).Sample((text, cls, tables, decision, rule) =>
        {
            var payload = Encode(RecordCodec.StatementSize(text.Length, cls, tables, decision),
                (ref RecordPayloadWriter w) => RecordCodec.WriteStatement(ref w, text, text.Length, cls, tables, decision, rule));
            var decoded = Assert.IsType<StatementRecord>(Decode(RecordKind.Statement, payload));
            Assert.Equal(text, decoded.Text);
            Assert.False(decoded.TextTruncated);
            Assert.Equal((text.Length, cls, decision, rule), ((int)decoded.TextLength, decoded.StatementClass, decoded.Decision, decoded.Rule));
            Assert.Equal(tables, decoded.Tables);
        });
    }

    [Fact]
    public void Result_RoundTrips()
    {
        Gen.Select(s_text, Gen.Long[-1, long.MaxValue], s_text, s_text, Gen.Long[0, long.MaxValue], Gen.Bool).Sample((tag, rows, state, message, recorded, truncated) =>
        {
            var payload = Encode(RecordCodec.ResultSize(tag, state, message),
                (ref RecordPayloadWriter w) => RecordCodec.WriteResult(ref w, tag, rows, state, message, recorded, truncated));
            var decoded = Assert.IsType<ResultRecord>(Decode(RecordKind.Result, payload));
            Assert.Equal((tag, rows, state, message, recorded, truncated),
                (decoded.CommandTag, decoded.Rows, decoded.SqlState, decoded.Message, decoded.RowsRecorded, decoded.RowsTruncated));
        });
    }

    [Fact]
    public void NoticeApprovalAndEnd_RoundTrip()
    {
        Gen.Select(s_text, s_text, s_text, s_text, Gen.Long[0, long.MaxValue], Gen.Long[0, long.MaxValue]).Sample((a, b, c, d, x, y) =>
        {
            var notice = Encode(RecordCodec.NoticeSize(a, b, c), (ref RecordPayloadWriter w) => RecordCodec.WriteNotice(ref w, a, b, c));
            Assert.Equal((a, b, c), Assert.IsType<NoticeRecord>(Decode(RecordKind.Notice, notice)) is var n ? (n.Severity, n.SqlState, n.Message) : default);
            var approval = Encode(RecordCodec.ApprovalSize(a, b, c, d), (ref RecordPayloadWriter w) => RecordCodec.WriteApproval(ref w, a, b, c, d));
            var ap = Assert.IsType<ApprovalRecord>(Decode(RecordKind.Approval, approval));
            Assert.Equal((a, b, c, d), (ap.Event, ap.RequestId, ap.Actor, ap.Detail));
            var end = Encode(RecordCodec.SessionEndSize(a), (ref RecordPayloadWriter w) => RecordCodec.WriteSessionEnd(ref w, a, x, y, 3));
            var e = Assert.IsType<SessionEndRecord>(Decode(RecordKind.SessionEnd, end));
            Assert.Equal((a, x, y, 3L), (e.Reason, e.BytesFromClient, e.BytesFromServer, e.Statements));
        });
    }

    [Fact]
    public void LongStrings_AreCutToTheirCaps()
    {
        var message = new string('m', RecordCodec.MaxMessageChars + 100);
        var tag = new string('t', RecordCodec.MaxNameChars + 5);
        var payload = Encode(RecordCodec.ResultSize(tag, "XX000", message),
            (ref RecordPayloadWriter w) => RecordCodec.WriteResult(ref w, tag, 1, "XX000", message, 0, false));
        var decoded = Assert.IsType<ResultRecord>(Decode(RecordKind.Result, payload));
        Assert.Equal(RecordCodec.MaxMessageChars, decoded.Message.Length);
        Assert.Equal(RecordCodec.MaxNameChars, decoded.CommandTag.Length);
    }

    [Fact]
    public void AnyBytes_AsAnyKind_DecodeWithoutThrowing()
    {
        Gen.Select(Gen.Byte[0, 10], Gen.Byte.Array[0, 100]).Sample((kind, bytes) =>
        {
            var decoded = RecordCodec.Decode(kind, Guid.Empty, 0, s_time, bytes);
            Assert.NotNull(decoded);
        });
    }

    [Fact]
    public void EveryPrefixOfAValidPayload_IsMalformedNotAnException()
    {
        var info = new SessionStartInfo { Subject = "repo:acme/shop", Roles = ["a", "b"], Target = "orders" };
        var payload = Encode(RecordCodec.SessionStartSize(info), (ref RecordPayloadWriter w) => RecordCodec.WriteSessionStart(ref w, info));
        for (var length = 0; length < payload.Length; length++)
        {
            Assert.IsType<MalformedRecord>(Decode(RecordKind.SessionStart, payload.AsSpan(0, length)));
        }
        Assert.IsType<MalformedRecord>(Decode(RecordKind.SessionStart, [.. payload, 0]));
        Assert.IsType<SessionStartRecord>(Decode(RecordKind.SessionStart, payload));
    }

    [Fact]
    public void TranscriptText_EscapesTerminalControlCharacters()
    {
        Assert.Equal("a\\x1b[2Jb\\x07\\x9b", TranscriptText.Escape("a\u001b[2Jb\u0007\u009b"));
        Assert.Equal("tab\tok", TranscriptText.Escape("tab\tok"));
        // Three columns: NULL, text, and two bytes that are not UTF-8.
        byte[] row = [.. RecordingTestStore.DataRow(null, "42"), 0, 0, 0, 2, 0xff, 0xfe];
        System.Buffers.Binary.BinaryPrimitives.WriteInt16BigEndian(row, 3);
        Assert.Equal("NULL | 42 | \\xfffe", TranscriptText.Row(row));
        Assert.Equal("(malformed row)", TranscriptText.Row([0]));
        Assert.Contains("(malformed row)", TranscriptText.Row(Encoding.ASCII.GetBytes("\0\u0001\0\0\0\u0009ab")), StringComparison.Ordinal);
    }
}

using System.Text;
using Appliance.Configuration;
using Appliance.Recording;
using Appliance.Storage;

namespace Appliance.Tests.Recording;

public sealed class SessionRecorderTests
{
    private static List<RecordedEvent> Transcript(RecordingTestStore store, Guid id)
    {
        using var reader = StoreReader.Open(store.StoreDir);
        return [.. SessionTranscript.Read(reader, id)];
    }

    [Fact]
    public async Task Session_EveryRecordReadsBackInOrder()
    {
        await using var store = await RecordingTestStore.StartAsync();
        var recorder = store.Session("repo:acme/shop:ref:refs/heads/main", "orders");
        store.Clock.Advance(TimeSpan.FromMilliseconds(5));
        Assert.True(recorder.Statement("select id, name from customers"u8, "select", ["public.customers"], "allow", 0));
        Assert.True(recorder.Rows(RecordingTestStore.DataRow("1", "Ada")));
        Assert.True(recorder.Rows(RecordingTestStore.DataRow("2", null)));
        store.Clock.Advance(TimeSpan.FromMilliseconds(2));
        Assert.True(recorder.Result("SELECT 2", 2, null, null));
        Assert.True(recorder.Statement("delete from customers"u8, "delete", ["public.customers"], "deny", 3));
        Assert.True(recorder.Result("", -1, "42501", "statement denied by rule 3"));
        Assert.True(recorder.Notice("WARNING", "01000", "careful"));
        Assert.True(recorder.Approval("requested", "r-1", "alice", "ddl"));
        Assert.True(recorder.End("client closed", 123, 4567));
        Assert.False(recorder.Statement("select 1"u8, "select", [], "allow", 0));
        Assert.Equal(RecordingFailure.Ended, recorder.Failure);
        await store.StopAsync();

        var events = Transcript(store, recorder.SessionId);
        Assert.Equal(Enumerable.Range(0, events.Count).Select(i => (ulong)i), events.Select(e => e.Sequence));
        Assert.Collection(events,
            e =>
            {
                var start = Assert.IsType<SessionStartRecord>(e);
                Assert.Equal(("repo:acme/shop:ref:refs/heads/main", "ci", "orders", "postgres", "10.0.0.5:51234", "Tls13", "ab12"),
                    (start.Subject, start.Issuer, start.Target, start.TargetKind, start.ClientAddress, start.TlsProtocol, start.ClaimsDigest));
                Assert.Equal(RecordingTestStore.Start, start.Time);
            },
            e =>
            {
                var st = Assert.IsType<StatementRecord>(e);
                Assert.Equal("select id, name from customers", Encoding.UTF8.GetString(st.Text));
                Assert.Equal(("select", "allow", 0), (st.StatementClass, st.Decision, st.Rule));
                Assert.Equal(["public.customers"], st.Tables);
                Assert.Equal(RecordingTestStore.Start.AddMilliseconds(5), st.Time);
            },
            e => Assert.Equal(["1 | Ada", "2 | NULL"], Assert.IsType<ResultRowsRecord>(e).Rows.Select(r => TranscriptText.Row(r))),
            e => Assert.Equal(("SELECT 2", 2L, 2L, false), Assert.IsType<ResultRecord>(e) is var r ? (r.CommandTag, r.Rows, r.RowsRecorded, r.RowsTruncated) : default),
            e => Assert.Equal(("deny", 3), Assert.IsType<StatementRecord>(e) is var s ? (s.Decision, s.Rule) : default),
            e => Assert.Equal(("42501", "statement denied by rule 3"), Assert.IsType<ResultRecord>(e) is var r ? (r.SqlState, r.Message) : default),
            e => Assert.Equal("careful", Assert.IsType<NoticeRecord>(e).Message),
            e => Assert.Equal("r-1", Assert.IsType<ApprovalRecord>(e).RequestId),
            e => Assert.Equal(("client closed", 123L, 4567L, 2L), Assert.IsType<SessionEndRecord>(e) is var x ? (x.Reason, x.BytesFromClient, x.BytesFromServer, x.Statements) : default));
    }

    [Fact]
    public async Task Rows_BeyondMaxResultBytes_AreCountedNotRecorded_AndTheCapResetsPerStatement()
    {
        await using var store = await RecordingTestStore.StartAsync(r => r.MaxResultBytes = 100);
        var recorder = store.Session("s", "orders");
        var row = RecordingTestStore.DataRow(new string('x', 30)); // 2 + 4 + 30 = 36 bytes
        recorder.Statement("select"u8, "select", [], "allow", 0);
        for (var i = 0; i < 5; i++)
        {
            Assert.True(recorder.Rows(row));
        }
        recorder.Result("SELECT 5", 5, null, null);
        recorder.Statement("select"u8, "select", [], "allow", 0);
        Assert.True(recorder.Rows(row));
        recorder.Result("SELECT 1", 1, null, null);
        recorder.End("done", 0, 0);
        await store.StopAsync();

        var events = Transcript(store, recorder.SessionId);
        var results = events.OfType<ResultRecord>().ToList();
        Assert.Equal((2L, true), (results[0].RowsRecorded, results[0].RowsTruncated));
        Assert.Equal((1L, false), (results[1].RowsRecorded, results[1].RowsTruncated));
        Assert.Equal(3, events.OfType<ResultRowsRecord>().Sum(r => r.Rows.Count));
    }

    [Fact]
    public async Task ManyRows_AreChunked_AndABigRowGoesAlone()
    {
        await using var store = await RecordingTestStore.StartAsync(r => r.MaxResultBytes = 1024 * 1024);
        var recorder = store.Session("s", "orders");
        recorder.Statement("select"u8, "select", [], "allow", 0);
        for (var i = 0; i < 1000; i++)
        {
            recorder.Rows(RecordingTestStore.DataRow(i.ToString(System.Globalization.CultureInfo.InvariantCulture), new string('v', 40)));
        }
        var big = RecordingTestStore.DataRow(new string('B', 100_000));
        recorder.Rows(big);
        recorder.Result("SELECT 1001", 1001, null, null);
        recorder.End("done", 0, 0);
        await store.StopAsync();

        var chunks = Transcript(store, recorder.SessionId).OfType<ResultRowsRecord>().ToList();
        Assert.True(chunks.Count > 2);
        var rows = chunks.SelectMany(c => c.Rows).ToList();
        Assert.Equal(1001, rows.Count);
        Assert.StartsWith("999 | ", TranscriptText.Row(rows[999]), StringComparison.Ordinal);
        Assert.Equal(big, rows[^1]);
        Assert.Single(chunks[^1].Rows);
    }

    [Fact]
    public async Task Utf8Overloads_WriteTheSameRecordsAsTheStringOnes()
    {
        await using var store = await RecordingTestStore.StartAsync();
        var recorder = store.Session("s", "orders");
        // The statement gate's packed names: "public.customers" and "public.orders" in one buffer.
        var names = "public.customerspublic.orders"u8.ToArray();
        Range[] tables = [0..16, 16..29];
        Assert.True(recorder.Statement("select 1"u8, "select", names, tables, "allow", 2));
        Assert.True(recorder.Result("SELECT 1"u8, 1, null, null));
        Assert.True(recorder.Statement("select 1"u8, "select", ["public.customers", "public.orders"], "allow", 2));
        Assert.True(recorder.Result("SELECT 1", 1, null, null));
        recorder.End("done", 0, 0);
        await store.StopAsync();

        using var reader = StoreReader.Open(store.StoreDir);
        var records = new List<(byte Type, byte[] Payload)>();
        using (var cursor = reader.ReadSession(recorder.SessionId))
        {
            while (cursor.MoveNext())
            {
                records.Add((cursor.Current.Type, cursor.Current.Payload.ToArray()));
            }
        }
        Assert.Equal((records[1].Type, records[2].Type), (records[3].Type, records[4].Type));
        Assert.Equal(records[1].Payload, records[3].Payload);
        Assert.Equal(records[2].Payload, records[4].Payload);
        var statement = Assert.IsType<StatementRecord>(Transcript(store, recorder.SessionId)[1]);
        Assert.Equal(["public.customers", "public.orders"], statement.Tables);
    }

    [Fact]
    public async Task Utf8Names_InvalidBytesBecomeReplacementCharacters_LongNamesAreCutOnACharacterBoundary()
    {
        await using var store = await RecordingTestStore.StartAsync();
        var recorder = store.Session("s", "orders");
        byte[] invalid = [(byte)'t', 0xFF, (byte)'x'];
        // 1,023 ASCII bytes then a 2-byte character: cut before the character, never inside it.
        var longName = Encoding.UTF8.GetBytes(new string('n', RecordCodec.MaxNameChars - 1) + "é");
        byte[] names = [.. invalid, .. longName];
        Assert.True(recorder.Statement("select 1"u8, "select", names, [0..3, 3..names.Length], "allow", 1));
        Assert.True(recorder.Result([(byte)'S', 0xC3], 0, null, null));
        recorder.End("done", 0, 0);
        await store.StopAsync();

        var events = Transcript(store, recorder.SessionId);
        var statement = Assert.IsType<StatementRecord>(events[1]);
        Assert.Equal(["t\uFFFDx", new string('n', RecordCodec.MaxNameChars - 1)], statement.Tables);
        Assert.Equal("S\uFFFD", Assert.IsType<ResultRecord>(events[2]).CommandTag);
    }

    [Fact]
    public async Task Rows_SpanningSegments_AreRecordedWhole()
    {
        await using var store = await RecordingTestStore.StartAsync();
        var recorder = store.Session("s", "orders");
        var row = RecordingTestStore.DataRow("42", "split across segments");
        recorder.Statement("select"u8, "select", [], "allow", 0);
        Assert.True(recorder.Rows(Segmented(row, 7)));
        Assert.True(recorder.Rows(new System.Buffers.ReadOnlySequence<byte>(row)));
        recorder.Result("SELECT 2"u8, 2, null, null);
        recorder.End("done", 0, 0);
        await store.StopAsync();

        var rows = Transcript(store, recorder.SessionId).OfType<ResultRowsRecord>().SelectMany(r => r.Rows).ToList();
        Assert.Equal([row, row], rows);
    }

    private static System.Buffers.ReadOnlySequence<byte> Segmented(byte[] bytes, int at)
    {
        var first = new RowSegment(bytes.AsMemory(0, at), null);
        var last = new RowSegment(bytes.AsMemory(at), first);
        return new System.Buffers.ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    [Fact]
    public async Task HugeStatement_IsCutAndMarked()
    {
        await using var store = await RecordingTestStore.StartAsync();
        var recorder = store.Session("s", "orders");
        var text = Encoding.UTF8.GetBytes("select '" + new string('x', 2 * 1024 * 1024) + "'");
        Assert.True(recorder.Statement(text, "select", [], "allow", 0));
        recorder.End("done", 0, 0);
        await store.StopAsync();

        var statement = Transcript(store, recorder.SessionId).OfType<StatementRecord>().Single();
        Assert.True(statement.TextTruncated);
        Assert.Equal(text.Length, statement.TextLength);
        Assert.True(statement.Text.Length < RecordingService.MaxRecordBytes);
        Assert.Equal(text.AsSpan(0, statement.Text.Length).ToArray(), statement.Text);
    }

    /// <summary>Opens the store and a recorder, and records one statement, which the writer then sits on.</summary>
    private static (SegmentStore Store, SessionRecorder Recorder) StartStalled(StoreOptions options, ManualResetEventSlim holding, bool failSession)
    {
        var store = SegmentStore.Open(options);
        var recorder = new SessionRecorder(store, Guid.NewGuid(), TimeProvider.System, failSession, maxResultBytes: 1 << 20);
        Assert.True(recorder.Statement("select 0"u8, "select", [], "allow", 0));
        Assert.True(holding.Wait(TimeSpan.FromSeconds(10)));
        return (store, recorder);
    }

    /// <summary>Store options whose writer, at its first fsync, sets <paramref name="holding"/> and waits for
    /// <paramref name="gate"/>: a disk that does not keep up, so the queue fills.</summary>
    private static StoreOptions StalledStore(string stateDir, ManualResetEventSlim gate, ManualResetEventSlim holding)
    {
        var options = RecordingService.StoreOptions(new RecordConfig { Fsync = FsyncPolicy.Always, QueueCapacity = 4 * 1024 * 1024 },
            Path.Combine(stateDir, "sessions"), TimeProvider.System, null);
        return new StoreOptions
        {
            Directory = options.Directory, Fsync = options.Fsync, QueueBytes = options.QueueBytes, MaxRecordBytes = options.MaxRecordBytes,
            SyncObserver = (_, _) =>
            {
                holding.Set();
                gate.Wait();
            },
        };
    }

    [Fact]
    public async Task FailSession_WhenTheQueueIsFull_ReturnsFalseAndStaysFailed()
    {
        var stateDir = Directory.CreateTempSubdirectory("appliance-recording-").FullName;
        using var gate = new ManualResetEventSlim(false);
        using var holding = new ManualResetEventSlim(false);
        var options = StalledStore(stateDir, gate, holding);
        try
        {
            var (segmentStore, recorder) = StartStalled(options, holding, failSession: true);
            var big = new byte[200_000];
            var ok = 0;
            while (recorder.Statement(big, "select", [], "allow", 0))
            {
                ok++;
                Assert.True(ok < 100, "the queue never filled");
            }
            Assert.Equal(RecordingFailure.QueueFull, recorder.Failure);
            Assert.False(recorder.Statement("select 1"u8, "select", [], "allow", 0));
            gate.Set();
            Assert.False(recorder.End("recording queue full", 0, 0)); // the end is still written, but the session had failed
            await segmentStore.DisposeAsync();

            using var reader = StoreReader.Open(options.Directory);
            var events = SessionTranscript.Read(reader, recorder.SessionId).ToList();
            Assert.Equal(ok + 1, events.OfType<StatementRecord>().Count());
            Assert.Equal("recording queue full", Assert.IsType<SessionEndRecord>(events[^1]).Reason);
        }
        finally
        {
            gate.Set();
            Directory.Delete(stateDir, recursive: true);
        }
    }

    /// <summary>Records 200 KB statements (each numbered in its first bytes, kept in <paramref name="texts"/>) until the recorder says records wait.</summary>
    private static void FillUntilMustWait(SessionRecorder recorder, List<byte[]> texts)
    {
        for (int i = 1; !recorder.MustWait; i++)
        {
            Assert.True(i < 100, "the queue never filled");
            var text = new byte[200_000];
            BitConverter.TryWriteBytes(text, i);
            texts.Add(text);
            Assert.True(recorder.Statement(text, "select", [], "allow", i));
        }
    }

    [Fact]
    public async Task Block_WhenTheQueueIsFull_KeepsRecordsInOrderWithoutWaiting_AndHandsThemOverOnceThereIsRoom()
    {
        var stateDir = Directory.CreateTempSubdirectory("appliance-recording-").FullName;
        using var gate = new ManualResetEventSlim(false);
        using var holding = new ManualResetEventSlim(false);
        var options = StalledStore(stateDir, gate, holding);
        try
        {
            var (segmentStore, recorder) = StartStalled(options, holding, failSession: false);
            Assert.False(recorder.MustWait);
            Assert.True(recorder.WaitForRoomAsync().IsCompleted);

            // Each call returns at once (a waiting one would wait for the disk, which waits for this test), and
            // the recorder says records wait.
            var texts = new List<byte[]>();
            await Task.Run(() =>
            {
                FillUntilMustWait(recorder, texts);
                for (int i = 0; i < 3; i++)
                {
                    var text = new byte[10];
                    BitConverter.TryWriteBytes(text, 1000 + i);
                    texts.Add(text);
                    Assert.True(recorder.Statement(text, "select", [], "allow", 1000 + i));
                }
            }).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.True(recorder.MustWait);
            var room = recorder.WaitForRoomAsync();
            Assert.False(room.IsCompleted);
            Assert.Equal(RecordingFailure.None, recorder.Failure);

            gate.Set();
            await room.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.False(recorder.MustWait);
            Assert.True(recorder.End("client terminated", 0, 0));
            await recorder.WaitForRoomAsync().WaitAsync(TimeSpan.FromSeconds(30));
            await segmentStore.DisposeAsync();

            using var reader = StoreReader.Open(options.Directory);
            var statements = SessionTranscript.Read(reader, recorder.SessionId).OfType<StatementRecord>().ToList();
            Assert.Equal(texts.Count + 1, statements.Count);
            for (int i = 0; i < texts.Count; i++)
            {
                Assert.Equal(texts[i], statements[i + 1].Text);
            }
        }
        finally
        {
            gate.Set();
            Directory.Delete(stateDir, recursive: true);
        }
    }

    [Fact]
    public async Task Block_StoreClosesWhileRecordsWait_TheWaitEndsAndTheRecorderFails()
    {
        var stateDir = Directory.CreateTempSubdirectory("appliance-recording-").FullName;
        using var gate = new ManualResetEventSlim(false);
        using var holding = new ManualResetEventSlim(false);
        var options = StalledStore(stateDir, gate, holding);
        try
        {
            var (segmentStore, recorder) = StartStalled(options, holding, failSession: false);
            await Task.Run(() => FillUntilMustWait(recorder, [])).WaitAsync(TimeSpan.FromSeconds(10));
            var room = recorder.WaitForRoomAsync();
            var closing = segmentStore.DisposeAsync().AsTask();
            await room.WaitAsync(TimeSpan.FromSeconds(10));
            Assert.False(recorder.MustWait);
            Assert.Equal(RecordingFailure.StoreUnavailable, recorder.Failure);
            Assert.False(recorder.Statement("select 1"u8, "select", [], "allow", 0));
            gate.Set();
            await closing.WaitAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            gate.Set();
            Directory.Delete(stateDir, recursive: true);
        }
    }

    [Fact]
    public async Task StoreClosed_RecorderReturnsFalse()
    {
        await using var store = await RecordingTestStore.StartAsync();
        var recorder = store.Session("s", "orders");
        await store.StopAsync();
        Assert.False(recorder.Statement("select 1"u8, "select", [], "allow", 0));
        Assert.Equal(RecordingFailure.StoreUnavailable, recorder.Failure);
    }

    [Fact]
    public async Task RecordingService_Disabled_GivesNoRecorderAndNoStore()
    {
        await using var store = await RecordingTestStore.StartAsync(r => r.Enabled = false);
        Assert.Null(store.Service.StartSession(new SessionStartInfo { Subject = "s", Target = "t" }));
        Assert.Null(store.Service.Store);
        Assert.False(Directory.Exists(store.StoreDir));
    }

    [Fact]
    public async Task RecordingService_AfterStop_RefusesSessions()
    {
        await using var store = await RecordingTestStore.StartAsync();
        await store.StopAsync();
        var error = Assert.Throws<RecordingRefusedException>(() => store.Service.StartSession(new SessionStartInfo { Subject = "s", Target = "t" }));
        Assert.Equal(RecordingFailure.StoreUnavailable, error.Failure);
    }

    [Fact]
    public async Task RecordingService_GivesTimeOrderedIds_AndKeepsAGivenOne()
    {
        await using var store = await RecordingTestStore.StartAsync();
        var given = Guid.NewGuid();
        Assert.Equal(given, store.Session("s", "t", given).SessionId);
        var a = store.Session("s", "t").SessionId;
        store.Clock.Advance(TimeSpan.FromSeconds(1));
        var b = store.Session("s", "t").SessionId;
        Assert.Equal(7, a.Version);
        Assert.True(string.CompareOrdinal(a.ToString(), b.ToString()) < 0);
    }
}

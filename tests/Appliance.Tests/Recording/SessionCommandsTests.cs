using System.CommandLine;
using System.Text.Json;
using Appliance.Cli;

namespace Appliance.Tests.Recording;

/// <summary>The CLI verbs run in-process against a store filled here.</summary>
public sealed class SessionCommandsTests : IAsyncLifetime
{
    private RecordingTestStore _store = null!;
    private Guid _shop;
    private Guid _billing;
    private Guid _web;

    public async Task InitializeAsync()
    {
        _store = await RecordingTestStore.StartAsync();
        var clock = _store.Clock;

        var shop = _store.Session("repo:acme/shop:ref:refs/heads/main", "orders");
        _shop = shop.SessionId;
        clock.Advance(TimeSpan.FromMilliseconds(10));
        shop.Statement("select id, name\nfrom customers"u8, "select", ["public.customers"], "allow", 0);
        clock.Advance(TimeSpan.FromMilliseconds(4));
        shop.Rows(RecordingTestStore.DataRow("1", "Ada"));
        shop.Rows(RecordingTestStore.DataRow("2", null));
        shop.Result("SELECT 2", 2, null, null);
        clock.Advance(TimeSpan.FromSeconds(2));
        shop.Statement("delete from customers"u8, "delete", ["public.customers"], "deny", 3);
        shop.Result("", -1, "42501", "statement denied by rule 3");
        clock.Advance(TimeSpan.FromSeconds(1));
        shop.End("client closed", 321, 654);

        var billing = _store.Session("repo:other/app:ref:refs/heads/main", "billing");
        _billing = billing.SessionId;
        billing.Statement("select 1"u8, "select", [], "allow", 1);
        billing.Result("SELECT 1", 1, null, null);

        clock.Advance(TimeSpan.FromHours(3));
        var web = _store.Session("repo:acme/web\u001b[31m:pull_request", "orders");
        _web = web.SessionId;
        web.End("login timeout", 10, 0);
        await _store.StopAsync();
    }

    public async Task DisposeAsync() => await _store.DisposeAsync();

    private async Task<(int Exit, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await Program.CreateRootCommand().Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task List_ShowsEverySessionWithPrincipalTargetCountsAndOutcome()
    {
        var (exit, output, error) = await Run("sessions", "list", "--config", _store.ConfigPath);

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        var lines = output.TrimEnd().Split('\n');
        Assert.Equal(4, lines.Length);
        Assert.StartsWith("SESSION", lines[0], StringComparison.Ordinal);
        Assert.Contains(_shop.ToString(), lines[1], StringComparison.Ordinal);
        Assert.Contains("repo:acme/shop:ref:refs/heads/main", lines[1], StringComparison.Ordinal);
        Assert.Contains("2025-06-01 12:00:00", lines[1], StringComparison.Ordinal);
        Assert.Contains("3.014s", lines[1], StringComparison.Ordinal);
        Assert.Contains("2 (1 denied)", lines[1], StringComparison.Ordinal);
        Assert.Contains("client closed", lines[1], StringComparison.Ordinal);
        Assert.Contains("open/interrupted", lines[2], StringComparison.Ordinal);
        Assert.Contains("repo:acme/web\\x1b[31m:pull_request", lines[3], StringComparison.Ordinal);
        Assert.DoesNotContain("\u001b", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--principal", "repo:acme/*", "shop,web")]
    [InlineData("--principal", "repo:other/app:ref:refs/heads/main", "billing")]
    [InlineData("--target", "orders", "shop,web")]
    [InlineData("--target", "bill*", "billing")]
    [InlineData("--since", "2025-06-01T14:00:00Z", "web")]
    [InlineData("--since", "2025-06-01T12:00:02Z", "shop,billing,web")]
    [InlineData("--since", "2025-06-01T12:00:03.100Z", "web")]
    public async Task List_Filters(string option, string value, string expected)
    {
        var (exit, output, _) = await Run("sessions", "list", "--config", _store.ConfigPath, option, value);

        Assert.Equal(0, exit);
        var ids = new Dictionary<string, Guid> { ["shop"] = _shop, ["billing"] = _billing, ["web"] = _web };
        foreach (var (name, id) in ids)
        {
            Assert.Equal(expected.Split(',').Contains(name), output.Contains(id.ToString(), StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task List_Json_IsMachineReadable()
    {
        var (exit, output, _) = await Run("sessions", "list", "--dir", _store.StoreDir, "--json", "--target", "orders");

        Assert.Equal(0, exit);
        var sessions = JsonDocument.Parse(output).RootElement.EnumerateArray().ToList();
        Assert.Equal(2, sessions.Count);
        Assert.Equal(_shop.ToString(), sessions[0].GetProperty("id").GetString());
        Assert.Equal(2, sessions[0].GetProperty("statements").GetInt32());
        Assert.Equal(1, sessions[0].GetProperty("denied").GetInt32());
        Assert.Equal("client closed", sessions[0].GetProperty("outcome").GetString());
        Assert.True(sessions[0].GetProperty("ended").GetBoolean());
    }

    [Fact]
    public async Task List_BadSince_IsAUsageError()
    {
        var (exit, _, error) = await Run("sessions", "list", "--config", _store.ConfigPath, "--since", "yesterday");
        Assert.Equal(2, exit);
        Assert.Contains("--since", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Since_DurationIsBackFromNow_TimeIsUtc()
    {
        var now = new DateTimeOffset(2025, 6, 1, 15, 0, 0, TimeSpan.Zero);
        Assert.True(SessionsCommand.TryParseSince("1h30m", now, out var since));
        Assert.Equal(now.AddMinutes(-90), since);
        Assert.True(SessionsCommand.TryParseSince("2025-06-01T10:00:00", now, out since));
        Assert.Equal(new DateTimeOffset(2025, 6, 1, 10, 0, 0, TimeSpan.Zero), since);
    }

    [Fact]
    public async Task Show_PrintsTheTranscript()
    {
        var (exit, output, error) = await Run("sessions", "show", _shop.ToString(), "--config", _store.ConfigPath);

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        string[] expected =
        [
            $"session {_shop}",
            "  principal  repo:acme/shop:ref:refs/heads/main (issuer ci)",
            "  roles      test",
            "  target     orders (postgres)",
            "  client     10.0.0.5:51234, TLS Tls13",
            "  ended      2025-06-01 12:00:03.014Z after 3.014s: client closed",
            "  traffic    321 bytes from the client, 654 bytes from the server, 2 statements",
            "+    0.010s  #1 select -> allow (rule 0)  tables: public.customers",
            "              select id, name",
            "              from customers",
            "              | 1 | Ada |",
            "              | 2 | NULL |",
            "+    0.014s     SELECT 2 (2 rows)",
            "+    2.014s  #2 delete -> deny (rule 3)  tables: public.customers",
            "+    2.014s     ERROR 42501: statement denied by rule 3",
            "+    3.014s  END client closed",
        ];
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var at = -1;
        foreach (var line in expected)
        {
            var found = lines.IndexOf(line);
            Assert.True(found > at, $"missing or out of order: '{line}'\n{output}");
            at = found;
        }
    }

    [Fact]
    public async Task Show_ByPrefix_AndUnknownId()
    {
        var (exit, output, _) = await Run("sessions", "show", _billing.ToString("N")[..10], "--dir", _store.StoreDir);
        Assert.Equal(0, exit);
        Assert.Contains("ended      no end record", output, StringComparison.Ordinal);

        (exit, _, var error) = await Run("sessions", "show", "ffffffffffff", "--dir", _store.StoreDir);
        Assert.Equal(1, exit);
        Assert.Contains("no session starting with ffffffffffff", error, StringComparison.Ordinal);

        (exit, _, error) = await Run("sessions", "show", "not-an-id", "--dir", _store.StoreDir);
        Assert.Equal(1, exit);
        Assert.Contains("is not a session id", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Show_Json_HasTypedRecords()
    {
        var (exit, output, _) = await Run("sessions", "show", _shop.ToString(), "--dir", _store.StoreDir, "--json");

        Assert.Equal(0, exit);
        var records = JsonDocument.Parse(output).RootElement.GetProperty("records").EnumerateArray().ToList();
        Assert.Equal(["session_start", "statement", "rows", "result", "statement", "result", "session_end"],
            records.Select(r => r.GetProperty("type").GetString()));
        Assert.Equal("select id, name\nfrom customers", records[1].GetProperty("text").GetString());
        Assert.Equal(JsonValueKind.Null, records[2].GetProperty("rows")[1][1].ValueKind);
        Assert.Equal("42501", records[5].GetProperty("sqlState").GetString());
    }

    [Fact]
    public async Task Replay_SpeedZero_PrintsTheTranscriptWithoutWaiting()
    {
        var (_, show, _) = await Run("sessions", "show", _shop.ToString(), "--dir", _store.StoreDir);
        var (exit, replay, _) = await Run("sessions", "replay", _shop.ToString(), "--dir", _store.StoreDir, "--speed", "0");

        Assert.Equal(0, exit);
        Assert.Equal(show, replay);
    }

    [Fact]
    public async Task Replay_WaitsTheOriginalGapsDividedBySpeed()
    {
        var delays = new List<TimeSpan>();
        var output = new StringWriter();
        var exit = await SessionsCommand.ReplaySession(_store.StoreDir, _shop.ToString(), 2, output, TextWriter.Null,
            (delay, _) =>
            {
                delays.Add(delay);
                return Task.CompletedTask;
            }, CancellationToken.None);

        Assert.Equal(0, exit);
        Assert.Equal([TimeSpan.FromMilliseconds(5), TimeSpan.FromMilliseconds(2), TimeSpan.FromMilliseconds(1000), TimeSpan.FromMilliseconds(500)], delays);
    }

    [Fact]
    public async Task Replay_NegativeSpeed_IsAUsageError()
    {
        var (exit, _, error) = await Run("sessions", "replay", _shop.ToString(), "--dir", _store.StoreDir, "--speed", "-1");
        Assert.Equal(2, exit);
        Assert.Contains("--speed", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_IntactStore_ExitsZeroAndGivesTheHead()
    {
        var (exit, output, _) = await Run("store", "verify", "--config", _store.ConfigPath);

        Assert.Equal(0, exit);
        Assert.Contains(": intact", output, StringComparison.Ordinal);
        Assert.Matches("head: block [0-9]+ sha256 [0-9a-f]{64}", output);
    }

    [Fact]
    public async Task Verify_FlippedBit_ExitsNonZeroNamingTheBlock()
    {
        var segment = Directory.GetFiles(_store.StoreDir, "*.seg").Single();
        var bytes = await File.ReadAllBytesAsync(segment);
        bytes[^3] ^= 0x10;
        await File.WriteAllBytesAsync(segment, bytes);

        var (exit, output, _) = await Run("store", "verify", "--dir", _store.StoreDir);
        Assert.Equal(1, exit);
        Assert.Contains("NOT INTACT", output, StringComparison.Ordinal);
        Assert.Matches($"first bad block: {System.Text.RegularExpressions.Regex.Escape(segment)} at offset [0-9]+ \\(block [0-9]+\\)", output);

        (exit, output, _) = await Run("store", "verify", "--dir", _store.StoreDir, "--json");
        Assert.Equal(1, exit);
        var json = JsonDocument.Parse(output).RootElement;
        Assert.False(json.GetProperty("intact").GetBoolean());
        Assert.Equal(segment, json.GetProperty("segment").GetString());
    }

    [Fact]
    public async Task Stats_CountsSessionsAndRecords()
    {
        var (exit, output, _) = await Run("store", "stats", "--dir", _store.StoreDir);
        Assert.Equal(0, exit);
        Assert.Contains("sessions   3", output, StringComparison.Ordinal);
        Assert.Contains("segments   1 (1-1)", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "sessions", "list" }, "give --config FILE or --dir DIR")]
    [InlineData(new[] { "store", "verify", "--dir", "/nonexistent/store" }, "no session store at /nonexistent/store")]
    public async Task WrongLocation_IsAUsageError(string[] args, string message)
    {
        var (exit, _, error) = await Run(args);
        Assert.Equal(2, exit);
        Assert.Contains(message, error, StringComparison.Ordinal);
    }
}

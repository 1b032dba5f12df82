using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Appliance.Approvals;
using Appliance.Demo;
using Appliance.Protocols.Postgres;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace Appliance.Tests.Approvals;

/// <summary>
/// 1000 sessions each holding a statement for approval at once, against a real PostgreSQL: the gateway's
/// managed heap and thread count are measured before and while they wait, and reported. Clients are raw
/// sockets in this process (a few hundred bytes each, present in both measurements), so the delta is the
/// gateway's cost of a pending request.
/// </summary>
[Collection(Name)]
public sealed class PendingMemoryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Sessions = 1000;

    /// <summary>Run alone: the heap measured is the whole process's, so other tests running meanwhile would count.</summary>
    public const string Name = "pending memory, alone";

    private DemoEnvironment _env = null!;

    public async Task InitializeAsync()
    {
        _env = await DemoEnvironment.StartAsync(logging: b => b.ClearProviders(), maxConnections: Sessions + 50, extraConfig: _ => """
            approvals:
              max_pending: 1100
              max_pending_per_principal: 1100
            shutdown:
              drain_timeout: 2s
            """);
    }

    public async Task DisposeAsync() => await _env.DisposeAsync();

    private sealed class RawClient(Socket socket)
    {
        private readonly NetworkStream _stream = new(socket, ownsSocket: true);
        private byte[] _buffer = new byte[512];

        public async Task SendAsync(Action<IBufferWriter<byte>> write)
        {
            var writer = new ArrayBufferWriter<byte>(256);
            write(writer);
            await _stream.WriteAsync(writer.WrittenMemory);
        }

        /// <summary>Reads whole messages until one of <paramref name="type"/>; returns its payload.</summary>
        public async Task<byte[]> ReadUntilAsync(byte type)
        {
            while (true)
            {
                await _stream.ReadExactlyAsync(_buffer.AsMemory(0, 5));
                byte got = _buffer[0];
                int length = BinaryPrimitives.ReadInt32BigEndian(_buffer.AsSpan(1)) - 4;
                if (_buffer.Length < length) _buffer = new byte[length];
                await _stream.ReadExactlyAsync(_buffer.AsMemory(0, length));
                if (got == type) return _buffer.AsSpan(0, length).ToArray();
                if (got == PgBackend.ErrorResponse && type != PgBackend.ErrorResponse)
                {
                    throw new InvalidOperationException("error: " + Encoding.UTF8.GetString(_buffer, 0, length));
                }
            }
        }

        public void Close() => _stream.Dispose();
    }

    private async Task<RawClient> LoginAsync(string token)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, _env.GatewayPort);
        var client = new RawClient(socket);
        await client.SendAsync(w => PgMessageWriter.WriteStartupMessage(w, [new("user", "ci"), new("database", "orders")]));
        await client.ReadUntilAsync(PgBackend.Authentication);
        await client.SendAsync(w => PgMessageWriter.WritePasswordMessage(w, Encoding.UTF8.GetBytes(token + "\0")));
        await client.ReadUntilAsync(PgBackend.ReadyForQuery);
        return client;
    }

    private static long Heap()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    [Fact]
    public async Task ThousandPending_HeapPerRequestSmallNoThreadPerRequestAndNothingRuns()
    {
        var token = _env.Token("deploy");
        var clients = new RawClient[Sessions];
        using (var gate = new SemaphoreSlim(32))
        {
            await Task.WhenAll(Enumerable.Range(0, Sessions).Select(async i =>
            {
                await gate.WaitAsync();
                try { clients[i] = await LoginAsync(token); }
                finally { gate.Release(); }
            }));
        }
        var queue = _env.Host!.Services.GetRequiredService<ApprovalService>().Queue;
        var process = Process.GetCurrentProcess();
        long idleHeap = Heap();
        process.Refresh();
        int idleThreads = process.Threads.Count;
        long idleRss = process.WorkingSet64;

        var stopwatch = Stopwatch.StartNew();
        // Each client sends a DDL and reads up to the NOTICE; then it reads nothing more until the decision.
        await Task.WhenAll(clients.Select((c, i) => Task.Run(async () =>
        {
            await c.SendAsync(w => PgMessageWriter.WriteQuery(w, $"create table mem_{i} (id int)"));
            var notice = Encoding.UTF8.GetString(await c.ReadUntilAsync(PgBackend.NoticeResponse));
            Assert.Contains("approval required", notice);
        })));
        var submitted = stopwatch.Elapsed;
        Assert.Equal(Sessions, queue.PendingCount);
        long pendingHeap = Heap();
        process.Refresh();
        int pendingThreads = process.Threads.Count;
        long pendingRss = process.WorkingSet64;
        double perRequest = (pendingHeap - idleHeap) / (double)Sessions;
        output.WriteLine($"{Sessions} sessions logged in: managed heap {idleHeap / 1024.0 / 1024:F1} MiB, {idleThreads} threads, RSS {idleRss / 1024.0 / 1024:F0} MiB");
        output.WriteLine($"{Sessions} requests pending (filed, persisted and noticed in {submitted.TotalSeconds:F1}s): managed heap {pendingHeap / 1024.0 / 1024:F1} MiB, "
            + $"{pendingThreads} threads, RSS {pendingRss / 1024.0 / 1024:F0} MiB");
        output.WriteLine($"per pending request: {perRequest:F0} bytes of managed heap; threads {pendingThreads - idleThreads:+0;-0;0}");
        Console.WriteLine($"[approvals memory] {Sessions} requests filed, persisted and noticed in {submitted.TotalSeconds:F1}s; per pending request: {perRequest:F0} B managed heap; threads {idleThreads} -> {pendingThreads}; "
            + $"heap {idleHeap / 1048576.0:F1} -> {pendingHeap / 1048576.0:F1} MiB; RSS {idleRss / 1048576.0:F0} -> {pendingRss / 1048576.0:F0} MiB");
        Assert.True(perRequest < 16 * 1024, $"a pending request costs {perRequest:F0} bytes of managed heap");
        Assert.True(pendingThreads - idleThreads < 50, $"threads grew from {idleThreads} to {pendingThreads} while requests waited");

        // Deny them all: every session gets its refusal, and no table was created.
        var dba = new Appliance.Identity.Principal("dba", "demo", ["dba"], DateTimeOffset.UtcNow.AddHours(1), new Dictionary<string, IReadOnlyList<string>>(), "");
        foreach (var request in queue.List(ApprovalState.Pending))
        {
            Assert.Equal(ReviewStatus.Done, queue.Deny(request.Id, dba, "memory test").Status);
        }
        await Task.WhenAll(clients.Select(c => c.ReadUntilAsync(PgBackend.ErrorResponse)));
        Assert.Equal("0", await _env.Postgres.PsqlAsync("select count(*) from pg_class where relname like 'mem\\_%'", database: "orders"));
        foreach (var c in clients) c.Close();
    }
}

[CollectionDefinition(PendingMemoryTests.Name, DisableParallelization = true)]
public sealed class PendingMemoryCollection;

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Npgsql;

namespace Appliance.Load.Sessions;

/// <summary>
/// The scale case of load/run.sh: opens N sessions to one endpoint and keeps them open and idle, runs a few of
/// them busy (a pgbench -S style point select) for a fixed time, and reports TPS and the resident memory a
/// proxy process gained per session (VmRSS from /proc before and after opening). Bounded: every phase has a
/// time limit, and everything is closed before it exits. Prints one JSON object on stdout.
///
///   appliance-load-sessions --conn "Host=…;Port=…;Database=…;Username=…;Password=…" --sessions 2000 --busy 50
///       --duration 15 [--pid PROXY_PID] [--open-parallel 16] [--open-timeout 120] [--rows 100000]
/// </summary>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        Options options;
        try
        {
            options = Options.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine($"sessions: {e.Message}");
            return 2;
        }

        var builder = new NpgsqlConnectionStringBuilder(options.Connection)
        {
            // Every connection is its own session: no client-side pool in between.
            Pooling = false,
            Timeout = 60,
            CommandTimeout = 60,
            SslMode = SslMode.Disable,
            NoResetOnClose = true,
        };
        var connectionString = builder.ConnectionString;
        long rssBefore = ReadRssKb(options.Pid);
        var connections = new NpgsqlConnection[options.Sessions];
        var opening = Stopwatch.StartNew();
        using var openLimit = new CancellationTokenSource(TimeSpan.FromSeconds(options.OpenTimeoutSeconds));
        int opened = 0, failed = 0;
        string? firstError = null;
        try
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, options.Sessions),
                new ParallelOptions { MaxDegreeOfParallelism = options.OpenParallel, CancellationToken = openLimit.Token },
                async (i, ct) =>
                {
                    var connection = new NpgsqlConnection(connectionString);
                    try
                    {
                        await connection.OpenAsync(ct);
                        // One round trip, so each session has run a statement through the proxy as real ones have.
                        await using var command = new NpgsqlCommand("select 1", connection);
                        await command.ExecuteScalarAsync(ct);
                        connections[i] = connection;
                        Interlocked.Increment(ref opened);
                    }
                    catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
                    {
                        Interlocked.Increment(ref failed);
                        Interlocked.CompareExchange(ref firstError, e.Message, null);
                        await connection.DisposeAsync();
                    }
                });
        }
        catch (OperationCanceledException)
        {
            firstError ??= $"opening did not finish within {options.OpenTimeoutSeconds} s";
        }
        double openSeconds = opening.Elapsed.TotalSeconds;
        // Let the proxy settle (sessions idle, login buffers returned) before reading its memory.
        await Task.Delay(TimeSpan.FromSeconds(2));
        long rssIdle = ReadRssKb(options.Pid);

        var live = connections.Where(c => c is not null).ToArray();
        var busy = live.Take(options.Busy).ToArray();
        long transactions = 0;
        var latencies = new List<double>[busy.Length];
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(options.DurationSeconds));
        var running = Stopwatch.StartNew();
        var workers = busy.Select((connection, w) => Task.Run(async () =>
        {
            var random = new Random(w);
            var own = latencies[w] = new List<double>(1 << 16);
            await using var command = new NpgsqlCommand("SELECT abalance FROM pgbench_accounts WHERE aid = $1", connection);
            var aid = new NpgsqlParameter<int> { TypedValue = 1 };
            command.Parameters.Add(aid);
            await command.PrepareAsync();
            while (!stop.IsCancellationRequested)
            {
                aid.TypedValue = random.Next(1, options.Rows + 1);
                long start = Stopwatch.GetTimestamp();
                await command.ExecuteScalarAsync();
                own.Add(Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                Interlocked.Increment(ref transactions);
            }
        })).ToArray();
        string? busyError = null;
        try
        {
            await Task.WhenAll(workers);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
        {
            busyError = e.Message;
        }
        double busySeconds = running.Elapsed.TotalSeconds;
        long rssBusy = ReadRssKb(options.Pid);

        // Are the idle ones still alive after all that? One round trip each.
        int idleAlive = 0;
        foreach (var connection in live.Skip(busy.Length))
        {
            try
            {
                await using var command = new NpgsqlCommand("select 1", connection);
                await command.ExecuteScalarAsync();
                idleAlive++;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
            {
                firstError ??= e.Message;
            }
        }
        foreach (var connection in live)
        {
            await connection.DisposeAsync();
        }

        var all = latencies.Where(l => l is not null).SelectMany(l => l).Order().ToArray();
        var report = new Dictionary<string, object?>
        {
            ["sessions"] = options.Sessions,
            ["opened"] = opened,
            ["failed"] = failed,
            ["idle_alive_after"] = idleAlive,
            ["open_seconds"] = Math.Round(openSeconds, 2),
            ["busy"] = busy.Length,
            ["busy_seconds"] = Math.Round(busySeconds, 2),
            ["transactions"] = transactions,
            ["tps"] = Math.Round(transactions / busySeconds, 1),
            ["latency_p50_us"] = Percentile(all, 0.50),
            ["latency_p99_us"] = Percentile(all, 0.99),
            ["rss_before_kb"] = rssBefore,
            ["rss_idle_kb"] = rssIdle,
            ["rss_busy_kb"] = rssBusy,
            ["rss_per_session_kb"] = options.Pid is null || opened == 0 ? null : Math.Round((rssIdle - rssBefore) / (double)opened, 1),
            ["error"] = busyError ?? firstError,
        };
        Console.WriteLine(JsonSerializer.Serialize(report));
        return opened == options.Sessions && idleAlive == live.Length - busy.Length && busyError is null ? 0 : 1;
    }

    private static double? Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? null : Math.Round(sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))], 1);

    /// <summary>Resident set size of a process in KB, from /proc/PID/status; 0 when there is no process to read.</summary>
    private static long ReadRssKb(int? pid)
    {
        if (pid is null)
        {
            return 0;
        }
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }
        return 0;
    }

    private sealed record Options(string Connection, int Sessions, int Busy, int DurationSeconds, int? Pid, int OpenParallel, int OpenTimeoutSeconds, int Rows)
    {
        public static Options Parse(string[] args)
        {
            string? connection = null;
            int sessions = 2000, busy = 50, duration = 15, parallel = 16, openTimeout = 120, rows = 100_000;
            int? pid = null;
            for (int i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                int Number() => int.TryParse(Value(), CultureInfo.InvariantCulture, out int n) && n >= 0 ? n : throw new ArgumentException($"{args[i - 1]} needs a whole number");
                switch (args[i])
                {
                    case "--conn": connection = Value(); break;
                    case "--sessions": sessions = Number(); break;
                    case "--busy": busy = Number(); break;
                    case "--duration": duration = Number(); break;
                    case "--pid": pid = Number(); break;
                    case "--open-parallel": parallel = Math.Max(1, Number()); break;
                    case "--open-timeout": openTimeout = Math.Max(1, Number()); break;
                    case "--rows": rows = Math.Max(1, Number()); break;
                    default: throw new ArgumentException($"unknown option {args[i]}");
                }
            }
            if (connection is null)
            {
                throw new ArgumentException("--conn is required");
            }
            return new Options(connection, sessions, Math.Min(busy, sessions), Math.Max(1, duration), pid, parallel, openTimeout, rows);
        }
    }
}

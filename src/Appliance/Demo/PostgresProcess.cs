using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Appliance.Demo;

/// <summary>
/// A throwaway PostgreSQL server in a temporary directory on a free loopback port, for the demo and the
/// tests. Runs as the <c>postgres</c> user when started as root, because PostgreSQL refuses root.
/// </summary>
internal sealed class PostgresProcess : IAsyncDisposable
{
    private readonly Process _server;

    private PostgresProcess(string directory, int port, Process server, string binDir)
    {
        Directory = directory;
        Port = port;
        _server = server;
        BinDir = binDir;
    }

    public string Directory { get; }
    public int Port { get; }
    public string BinDir { get; }
    public string SocketDir => Path.Combine(Directory, "sock");
    public string DataDir => Path.Combine(Directory, "data");

    /// <summary>A superuser connection string over the Unix socket (trust), for setup and checks.</summary>
    public string AdminConnectionString => $"Host={SocketDir};Port={Port};Username=postgres;Database=postgres;Pooling=false";

    public static string FindBinDir()
    {
        var fromEnv = Environment.GetEnvironmentVariable("APPLIANCE_PG_BIN");
        if (!string.IsNullOrEmpty(fromEnv)) return fromEnv;
        var root = "/usr/lib/postgresql";
        if (System.IO.Directory.Exists(root))
        {
            var newest = System.IO.Directory.GetDirectories(root)
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "postgres")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault();
            if (newest is not null) return newest;
        }
        throw new InvalidOperationException("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin; set APPLIANCE_PG_BIN");
    }

    /// <summary>initdb, start, and wait until the server accepts connections.</summary>
    public static async Task<PostgresProcess> StartAsync(int maxConnections = 300, CancellationToken ct = default)
    {
        string bin = FindBinDir();
        string dir = System.IO.Directory.CreateTempSubdirectory("appliance-pg-").FullName;
        System.IO.Directory.CreateDirectory(Path.Combine(dir, "sock"));
        if (IsRoot)
        {
            await RunAsync("chown", ["-R", "postgres:postgres", dir], ct);
        }
        await RunAsync(Path.Combine(bin, "initdb"),
            ["-D", Path.Combine(dir, "data"), "-U", "postgres", "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"], ct, asPostgres: true);
        await File.WriteAllTextAsync(Path.Combine(dir, "data", "pg_hba.conf"), """
            local all all trust
            host all md5user 127.0.0.1/32 md5
            host all trustuser 127.0.0.1/32 trust
            host all all 127.0.0.1/32 scram-sha-256
            host all all ::1/128 scram-sha-256
            """, ct);
        int port = FreePort();
        var start = StartInfo(Path.Combine(bin, "postgres"),
            ["-D", Path.Combine(dir, "data"), "-p", port.ToString(), "-k", Path.Combine(dir, "sock"),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", $"max_connections={maxConnections}", "-c", "logging_collector=off",
             "-c", "log_min_messages=warning"], asPostgres: true);
        var server = Process.Start(start) ?? throw new InvalidOperationException("could not start postgres");
        var pg = new PostgresProcess(dir, port, server, bin);
        server.ErrorDataReceived += (_, e) => { if (e.Data is not null) pg.AppendLog(e.Data); };
        server.OutputDataReceived += (_, e) => { if (e.Data is not null) pg.AppendLog(e.Data); };
        server.BeginErrorReadLine();
        server.BeginOutputReadLine();
        await pg.WaitReadyAsync(ct);
        return pg;
    }

    private readonly List<string> _log = [];

    private void AppendLog(string line)
    {
        lock (_log)
        {
            if (_log.Count < 2000) _log.Add(line);
        }
    }

    public string Log()
    {
        lock (_log) return string.Join('\n', _log);
    }

    private async Task WaitReadyAsync(CancellationToken ct)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (_server.HasExited)
            {
                throw new InvalidOperationException($"postgres exited during start-up:\n{Log()}");
            }
            var probe = await RunAsync(Path.Combine(BinDir, "pg_isready"), ["-h", SocketDir, "-p", Port.ToString(), "-U", "postgres"], ct, check: false);
            if (probe == 0)
            {
                return;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"postgres did not become ready within 60s:\n{Log()}");
            }
            await Task.Delay(100, ct);
        }
    }

    /// <summary>Runs SQL as the superuser with psql (a script: each statement commits on its own); throws with psql's output on failure.</summary>
    public async Task<string> PsqlAsync(string sql, string database = "postgres", CancellationToken ct = default)
    {
        var info = StartInfo("psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", SocketDir, "-p", Port.ToString(), "-U", "postgres", "-d", database, "-f", "-"], asPostgres: false);
        info.RedirectStandardInput = true;
        var (code, output) = await RunCapturedAsync(info, ct, sql);
        if (code != 0)
        {
            throw new InvalidOperationException($"psql failed ({code}): {output}");
        }
        return output.Trim();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            var pidFile = Path.Combine(DataDir, "postmaster.pid");
            if (!_server.HasExited && File.Exists(pidFile) && int.TryParse(File.ReadLines(pidFile).First(), out int pid))
            {
                _ = Kill(pid, SigInt); // fast shutdown: disconnects clients, exits cleanly
            }
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _server.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _server.Kill(entireProcessTree: true);
            }
        }
        finally
        {
            _server.Dispose();
            try
            {
                System.IO.Directory.Delete(Directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    public static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    public static bool IsRoot => GetEuid() == 0;

    private static ProcessStartInfo StartInfo(string file, IEnumerable<string> args, bool asPostgres)
    {
        var info = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (asPostgres && IsRoot)
        {
            info.FileName = "runuser";
            foreach (var a in new[] { "-u", "postgres", "--", file }) info.ArgumentList.Add(a);
        }
        else
        {
            info.FileName = file;
        }
        foreach (var a in args) info.ArgumentList.Add(a);
        info.Environment["LC_ALL"] = "C";
        return info;
    }

    private static async Task<int> RunAsync(string file, IEnumerable<string> args, CancellationToken ct, bool asPostgres = false, bool check = true)
    {
        var (code, output) = await RunCapturedAsync(StartInfo(file, args, asPostgres), ct);
        if (check && code != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(file)} failed ({code}): {output}");
        }
        return code;
    }

    internal static async Task<(int Code, string Output)> RunCapturedAsync(ProcessStartInfo info, CancellationToken ct, string? input = null)
    {
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {info.FileName}");
        if (info.RedirectStandardInput)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return (process.ExitCode, await stdout + await stderr);
    }

    private const int SigInt = 2;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();
}

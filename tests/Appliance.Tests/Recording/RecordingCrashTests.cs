using System.Diagnostics;
using System.Security.Cryptography;
using Appliance.Demo;
using Appliance.Recording;
using Appliance.Storage;
using Appliance.Tests.Postgres;
using Appliance.Tests.Systemd;
using Npgsql;

namespace Appliance.Tests.Recording;

/// <summary>
/// The real <c>appliance run</c> process recording real PostgreSQL sessions (fsync: always), killed with SIGKILL while
/// it writes, then restarted: recovery, the acknowledged blocks, verify and the CLI an auditor uses afterwards.
/// </summary>
public sealed class RecordingCrashTests : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    private DemoEnvironment _env = null!;

    private string StoreDir => Path.Combine(_env.Directory, "state", "sessions");

    public async Task InitializeAsync()
    {
        // The demo environment brings PostgreSQL, keys, TLS material and a config; its in-process gateway is stopped
        // so the real process can take the port and the store.
        _env = await DemoEnvironment.StartAsync();
        await _env.Host!.StopAsync();
        await File.AppendAllTextAsync(_env.ConfigPath, "\nrecord:\n  fsync: always\n");
    }

    public async Task DisposeAsync() => await _env.DisposeAsync();

    [Fact]
    public async Task Sigkill_WhileWriting_RecoveryTruncatesTornTailAndKeepsEveryAcknowledgedBlock()
    {
        var before = new List<Guid>();
        Dictionary<long, string> snapshot;
        await using (var gateway = ApplianceProcess.Run(_env.ConfigPath))
        {
            await WaitForStartAsync(gateway);

            // Finished sessions, each waited for until its end record is on disk.
            for (var i = 1; i <= 3; i++)
            {
                var (code, _, stderr) = await PsqlAsync($"select name, 'before-kill-{i}' from customers where id = {i}");
                Assert.True(code == 0, stderr);
                before.Add(await WaitForEndedSessionAsync($"before-kill-{i}"));
            }

            // Sessions busy when the kill comes.
            using var stop = new CancellationTokenSource();
            var busy = Enumerable.Range(0, 4).Select(n => Task.Run(() => QueryUntilFailureAsync(n, stop.Token))).ToArray();
            await WaitForStoreGrowthAsync(times: 5);
            // Every block complete in this copy was written before the kill; with fsync: always each is fsynced as
            // soon as written, so the copy holds at least every block acknowledged before it was taken.
            snapshot = CompleteBlocks(CopyStore());
            gateway.Signal(Posix.SigKill);
            Assert.Equal(128 + Posix.SigKill, await gateway.WaitForExitAsync(Deadline));
            await stop.CancelAsync();
            await Task.WhenAll(busy);
        }
        Assert.NotEmpty(snapshot);

        // A write cut short (power lost mid-write) leaves the first part of a block at the end; SIGKILL alone
        // rarely does, since the kernel finishes a write it has started. Leave one if the kill did not.
        var last = Directory.GetFiles(StoreDir, "*.seg").Order(StringComparer.Ordinal).Last();
        var tornBytes = TearTail(last);

        await using (var gateway = ApplianceProcess.Run(_env.ConfigPath))
        {
            var truncated = await gateway.WaitForLineAsync("truncated a torn tail", Deadline);
            Assert.Contains(last, truncated, StringComparison.Ordinal);
            Assert.Contains("warn:", truncated, StringComparison.Ordinal);
            Assert.True(tornBytes == 0 || truncated.Contains($"of {tornBytes} bytes", StringComparison.Ordinal), truncated);
            await WaitForStartAsync(gateway);
            await StopAsync(gateway);
        }

        var after = CompleteBlocks(StoreDir);
        foreach (var (number, hash) in snapshot)
        {
            Assert.True(after.TryGetValue(number, out var kept), $"block {number}, complete before the kill, is gone after recovery");
            Assert.Equal(hash, kept);
        }

        var verify = await ApplianceAsync("store", "verify", "--config", _env.ConfigPath);
        Assert.True(verify.Code == 0, verify.Stdout + verify.Stderr);
        Assert.Contains(": intact", verify.Stdout, StringComparison.Ordinal);

        var list = await ApplianceAsync("sessions", "list", "--config", _env.ConfigPath, "--json");
        Assert.True(list.Code == 0, list.Stderr);
        for (var i = 0; i < before.Count; i++)
        {
            Assert.Contains(before[i].ToString(), list.Stdout, StringComparison.Ordinal);
            var show = await ApplianceAsync("sessions", "show", before[i].ToString(), "--config", _env.ConfigPath);
            Assert.True(show.Code == 0, show.Stderr);
            Assert.Contains($"before-kill-{i + 1}", show.Stdout, StringComparison.Ordinal);
            Assert.Contains(i == 1 ? "Alan Turing" : i == 0 ? "Ada Lovelace" : "Grace Hopper", show.Stdout, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task DamagedMiddleBlock_VerifyNamesIt_StartupReportsItLoudlyAndRepairsNothing()
    {
        await using (var gateway = ApplianceProcess.Run(_env.ConfigPath))
        {
            await WaitForStartAsync(gateway);
            for (var i = 1; i <= 3; i++)
            {
                var (code, _, stderr) = await PsqlAsync($"select name, 'session-{i}' from customers where id = {i}");
                Assert.True(code == 0, stderr);
                await WaitForEndedSessionAsync($"session-{i}");
            }
            await StopAsync(gateway);
        }

        var segment = Directory.GetFiles(StoreDir, "*.seg").Single();
        var frames = FrameOffsets(segment);
        Assert.True(frames.Count >= 3, $"expected at least 3 blocks, got {frames.Count}");
        var (offset, number, storedLength) = frames[frames.Count / 2];
        var bytes = await File.ReadAllBytesAsync(segment);
        bytes[offset + BlockFrame.HeaderSize + storedLength / 2] ^= 0x01;
        await File.WriteAllBytesAsync(segment, bytes);

        var verify = await ApplianceAsync("store", "verify", "--config", _env.ConfigPath);
        Assert.Equal(1, verify.Code);
        Assert.Contains("NOT INTACT", verify.Stdout, StringComparison.Ordinal);
        Assert.Contains($"first bad block: {segment} at offset {offset} (block {number})", verify.Stdout, StringComparison.Ordinal);

        await using (var gateway = ApplianceProcess.Run(_env.ConfigPath))
        {
            var report = await gateway.WaitForLineAsync("damaged block in segment", Deadline);
            Assert.Contains("crit:", report, StringComparison.Ordinal);
            Assert.Contains($"{segment} at offset {offset}", report, StringComparison.Ordinal);
            await WaitForStartAsync(gateway);
            // The gateway still records, in a new segment after the damaged one.
            var (code, _, stderr) = await PsqlAsync("select name, 'after-damage' from customers where id = 1");
            Assert.True(code == 0, stderr);
            await WaitForEndedSessionAsync("after-damage");
            await StopAsync(gateway);
        }

        Assert.Equal(bytes, await File.ReadAllBytesAsync(segment));
        Assert.Equal(2, Directory.GetFiles(StoreDir, "*.seg").Length);
        verify = await ApplianceAsync("store", "verify", "--config", _env.ConfigPath);
        Assert.Equal(1, verify.Code);
        Assert.Contains($"first bad block: {segment} at offset {offset} (block {number})", verify.Stdout, StringComparison.Ordinal);
    }

    // The admin API starts last: once it is up, the listeners and the store are too.
    private static Task WaitForStartAsync(ApplianceProcess gateway) => gateway.WaitForLineAsync("admin API on", Deadline);

    private static async Task StopAsync(ApplianceProcess gateway)
    {
        gateway.Signal(Posix.SigTerm);
        var code = await gateway.WaitForExitAsync(Deadline);
        Assert.True(code == 0, $"appliance exited with {code} after SIGTERM; output:\n{gateway.Output}");
    }

    private Task<(int Code, string Stdout, string Stderr)> PsqlAsync(string sql) =>
        GatewayFixture.RunAsync("psql", _env.Token("test"), "-X", "-A", "-t",
            $"host=localhost port={_env.GatewayPort} dbname=orders user=ci sslmode=verify-full sslrootcert={_env.CaPath}", "-c", sql);

    private async Task QueryUntilFailureAsync(int client, CancellationToken stop)
    {
        var cs = $"Host=localhost;Port={_env.GatewayPort};Database=orders;Username=ci;Password={_env.Token("test")};SSL Mode=VerifyFull;"
            + $"Root Certificate={_env.CaPath};Pooling=false;Timeout=30;Command Timeout=30";
        try
        {
            await using var connection = new NpgsqlConnection(cs);
            await connection.OpenAsync(stop);
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                await using var command = new NpgsqlCommand($"select name, 'during-kill-{client}-{n}' from customers where id = 2", connection);
                await command.ExecuteScalarAsync(stop);
            }
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or IOException)
        {
            // The gateway was killed under it: the point of the test.
        }
    }

    /// <summary>Waits until the store on disk holds a finished session with a statement containing <paramref name="marker"/>.</summary>
    private async Task<Guid> WaitForEndedSessionAsync(string marker)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (Directory.Exists(StoreDir))
            {
                using var reader = StoreReader.Open(StoreDir);
                foreach (var summary in reader.ListSessions())
                {
                    var events = SessionTranscript.Read(reader, summary.SessionId).ToList();
                    if (events.OfType<SessionEndRecord>().Any()
                        && events.OfType<StatementRecord>().Any(s => System.Text.Encoding.UTF8.GetString(s.Text).Contains(marker, StringComparison.Ordinal)))
                    {
                        return summary.SessionId;
                    }
                }
            }
            if (watch.Elapsed > Deadline)
            {
                throw new TimeoutException($"no finished session with '{marker}' in {StoreDir} within {Deadline.TotalSeconds:0}s");
            }
            await Task.Delay(50); // polling the files: the writer announces nothing to another process
        }
    }

    /// <summary>Waits until the store's files have been seen growing <paramref name="times"/> times.</summary>
    private async Task WaitForStoreGrowthAsync(int times)
    {
        var watch = Stopwatch.StartNew();
        long last = StoreBytes();
        var seen = 0;
        while (seen < times)
        {
            if (watch.Elapsed > Deadline)
            {
                throw new TimeoutException($"the store grew only {seen} times in {Deadline.TotalSeconds:0}s");
            }
            await Task.Delay(20);
            var now = StoreBytes();
            if (now > last)
            {
                seen++;
                last = now;
            }
        }
    }

    private long StoreBytes() => Directory.GetFiles(StoreDir, "*.seg").Sum(f => new FileInfo(f).Length);

    private string CopyStore()
    {
        var copy = Path.Combine(_env.Directory, "snapshot");
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.GetFiles(StoreDir, "*.seg"))
        {
            using var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var target = File.Create(Path.Combine(copy, Path.GetFileName(file)));
            source.CopyTo(target);
        }
        return copy;
    }

    /// <summary>Every whole block in a store directory: its number and the SHA-256 of its frame.</summary>
    private static Dictionary<long, string> CompleteBlocks(string directory)
    {
        var blocks = new Dictionary<long, string>();
        foreach (var file in Directory.GetFiles(directory, "*.seg"))
        {
            using var scanner = SegmentScanner.Open(file, StoreReader.MaxRawLength);
            while (scanner.ReadNext() == FrameStatus.Block)
            {
                blocks.Add(scanner.Block.BlockNumber, Convert.ToHexString(SHA256.HashData(scanner.Frame)));
            }
        }
        return blocks;
    }

    private static List<(int Offset, long Number, int StoredLength)> FrameOffsets(string segment)
    {
        var frames = new List<(int, long, int)>();
        using var scanner = SegmentScanner.Open(segment, StoreReader.MaxRawLength);
        while (scanner.ReadNext() == FrameStatus.Block)
        {
            frames.Add(((int)scanner.FrameOffset, scanner.Block.BlockNumber, scanner.Block.StoredLength));
        }
        return frames;
    }

    /// <summary>Appends the first half of the segment's last block again, unless the kill already left a torn tail; returns the bytes appended.</summary>
    private static int TearTail(string segment)
    {
        byte[] lastFrame = [];
        using (var scanner = SegmentScanner.Open(segment, StoreReader.MaxRawLength))
        {
            FrameStatus status;
            while ((status = scanner.ReadNext()) == FrameStatus.Block)
            {
                lastFrame = scanner.Frame.ToArray();
            }
            Assert.NotEqual(FrameStatus.Damaged, status);
            if (status == FrameStatus.Torn)
            {
                return 0;
            }
        }
        Assert.NotEmpty(lastFrame);
        var torn = lastFrame.AsSpan(0, lastFrame.Length / 2);
        using var file = new FileStream(segment, FileMode.Append, FileAccess.Write);
        file.Write(torn);
        return torn.Length;
    }

    private static async Task<(int Code, string Stdout, string Stderr)> ApplianceAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "appliance.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Deadline);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}

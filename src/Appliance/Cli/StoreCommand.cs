using System.CommandLine;
using Appliance.Recording;
using Appliance.Storage;

namespace Appliance.Cli;

/// <summary><c>appliance store verify|stats</c>: the session store's integrity and size.</summary>
internal static class StoreCommand
{
    public static Command Create() => new("store", "Check and describe the session store")
    {
        Verify(),
        Stats(),
    };

    private static Command Verify()
    {
        var store = new StoreLocation();
        var command = new Command("verify",
            "Prove that no recorded block was altered, removed or reordered (exit 0), or name the first one that was (exit 1)");
        store.AddTo(command);
        command.SetAction(parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            return store.Resolve(parse, error) is { } dir
                ? VerifyStore(dir, parse.GetValue(store.Json), parse.InvocationConfiguration.Output, error)
                : 2;
        });
        return command;
    }

    internal static int VerifyStore(string dir, bool json, TextWriter output, TextWriter error)
    {
        var report = StoreVerifier.Verify(dir);
        var intact = report.Intact && report.IndexProblems.Count == 0;
        if (json)
        {
            CliJson.Write(output, new
            {
                directory = dir, intact, chainIntact = report.Intact, problem = report.Problem, segment = report.Segment,
                offset = report.Intact ? (long?)null : report.Offset, blockNumber = report.Intact ? null : report.BlockNumber,
                segments = report.Segments, blocks = report.Blocks, records = report.Records, firstBlock = report.FirstBlockNumber,
                headBlock = report.HeadBlockNumber, headHash = report.HeadHash, deletedSegments = report.DeletedSegments,
                indexProblems = report.IndexProblems, warnings = report.Warnings,
            });
            return intact ? 0 : 1;
        }
        foreach (var warning in report.Warnings)
        {
            error.WriteLine($"appliance: warning: {warning}");
        }
        if (!report.Intact)
        {
            output.WriteLine($"{dir}: NOT INTACT");
            output.WriteLine($"  first bad block: {report.Segment} at offset {report.Offset}"
                + (report.BlockNumber is { } n ? $" (block {n})" : ""));
            output.WriteLine($"  problem: {report.Problem}");
            output.WriteLine($"  {report.Blocks} blocks before it checked out");
            return 1;
        }
        output.WriteLine($"{dir}: intact");
        output.WriteLine($"  {report.Segments} segments, {report.Blocks} blocks, {report.Records} records");
        if (report.Blocks > 0)
        {
            output.WriteLine(report.FirstBlockNumber > 0
                ? $"  blocks {report.FirstBlockNumber}-{report.HeadBlockNumber}: blocks before {report.FirstBlockNumber} were deleted by retention, as recorded in the chain"
                : $"  blocks 0-{report.HeadBlockNumber}: the whole chain from its start");
            output.WriteLine($"  head: block {report.HeadBlockNumber} sha256 {report.HeadHash}");
            output.WriteLine("  (note the head: a later verify that reaches it proves nothing before it changed)");
        }
        foreach (var problem in report.IndexProblems)
        {
            output.WriteLine($"  index: {problem}");
        }
        return intact ? 0 : 1;
    }

    private static Command Stats()
    {
        var store = new StoreLocation();
        var command = new Command("stats", "Size of the session store: segments, bytes, records, sessions, time span");
        store.AddTo(command);
        command.SetAction(parse =>
        {
            var error = parse.InvocationConfiguration.Error;
            return store.Resolve(parse, error) is { } dir ? StoreStats(dir, parse.GetValue(store.Json), parse.InvocationConfiguration.Output, error) : 2;
        });
        return command;
    }

    internal static int StoreStats(string dir, bool json, TextWriter output, TextWriter error)
    {
        using var reader = StoreReader.Open(dir);
        var segments = reader.SegmentNumbers();
        var files = Directory.GetFiles(dir);
        var segmentBytes = files.Where(f => f.EndsWith(".seg", StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);
        var indexBytes = files.Where(f => f.EndsWith(".idx", StringComparison.Ordinal)).Sum(f => new FileInfo(f).Length);
        var sessions = reader.ListSessions();
        var records = sessions.Sum(s => s.RecordCount);
        DateTimeOffset? first = sessions.Count == 0 ? null : sessions.Min(s => s.FirstRecord);
        DateTimeOffset? last = sessions.Count == 0 ? null : sessions.Max(s => s.LastRecord);
        foreach (var warning in reader.Warnings)
        {
            error.WriteLine($"appliance: warning: {warning}");
        }
        if (json)
        {
            CliJson.Write(output, new { directory = dir, segments = segments.Count, segmentBytes, indexBytes, sessions = sessions.Count, records, firstRecord = first, lastRecord = last });
            return 0;
        }
        output.WriteLine(dir);
        output.WriteLine($"  segments   {segments.Count}" + (segments.Count > 0 ? $" ({segments[0]}-{segments[^1]})" : ""));
        output.WriteLine($"  bytes      {segmentBytes} in segments, {indexBytes} in indexes");
        output.WriteLine($"  sessions   {sessions.Count}");
        output.WriteLine($"  records    {records} (session records)");
        if (first is { } f && last is { } l)
        {
            output.WriteLine($"  span       {TranscriptText.Time(f)} to {TranscriptText.Time(l)}");
        }
        return 0;
    }
}

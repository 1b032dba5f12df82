namespace Appliance.Storage.Tests;

/// <summary>A temporary store directory, removed on dispose, with helpers to append and read back.</summary>
internal sealed class StoreDirectory : IDisposable
{
    public StoreDirectory()
    {
        Path = Directory.CreateTempSubdirectory("appliance-store-").FullName;
    }

    public string Path { get; }

    public StoreOptions Options(int segmentMaxBytes = 64 * 1024 * 1024, FsyncPolicy fsync = FsyncPolicy.Batch, int blockBytes = 64 * 1024,
        int queueBytes = 1 << 20, int maxRecordBytes = 64 * 1024, TimeProvider? time = null, List<StoreEvent>? events = null,
        TimeSpan? maxAge = null, long? maxTotalBytes = null, Action<string, long>? syncObserver = null, TimeSpan? fsyncInterval = null) => new()
    {
        Directory = Path,
        SegmentMaxBytes = segmentMaxBytes,
        Fsync = fsync,
        BlockBytes = blockBytes,
        QueueBytes = queueBytes,
        MaxRecordBytes = maxRecordBytes,
        Time = time ?? TimeProvider.System,
        Events = events is null ? null : e => { lock (events) { events.Add(e); } },
        RetentionMaxAge = maxAge,
        RetentionMaxTotalBytes = maxTotalBytes,
        SyncObserver = syncObserver,
        FsyncInterval = fsyncInterval ?? TimeSpan.FromSeconds(1),
    };

    public string[] SegmentFiles() => [.. Directory.GetFiles(Path, "*.seg").Order(StringComparer.Ordinal)];

    /// <summary>Copies the directory's segment files (what a crashed process leaves behind) into a new directory.</summary>
    public StoreDirectory Snapshot(Func<string, long, long>? length = null)
    {
        var copy = new StoreDirectory();
        foreach (var file in Directory.GetFiles(Path))
        {
            if (file.EndsWith(".lock", StringComparison.Ordinal))
            {
                continue;
            }
            var bytes = File.ReadAllBytes(file);
            var keep = length is null ? bytes.Length : (int)Math.Min(bytes.Length, length(file, bytes.Length));
            File.WriteAllBytes(System.IO.Path.Combine(copy.Path, System.IO.Path.GetFileName(file)), bytes[..keep]);
        }
        return copy;
    }

    public List<(RecordHeader Header, byte[] Payload)> ReadAll()
    {
        using var reader = StoreReader.Open(Path);
        using var cursor = reader.ReadAll();
        return [.. cursor.Select(r => (r.Header, r.Payload.ToArray()))];
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.Channels;

namespace Appliance.Approvals;

/// <summary>
/// The approvals directory: one JSON file per request (<c>req-ID.json</c>) and per pre-approval
/// (<c>pre-ID.json</c>), each replaced atomically (write a temporary file, fsync it, rename it over the
/// old one, fsync the directory), so a crash leaves either the old or the new version, never half of one.
/// </summary>
internal sealed class ApprovalFiles
{
    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly Channel<Op> _ops = Channel.CreateUnbounded<Op>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _writer;

    /// <summary>One file to replace (or delete, when <see cref="Json"/> is null), and who waits for it to be durable.</summary>
    private sealed record Op(string Name, byte[]? Json, TaskCompletionSource Done);

    public ApprovalFiles(string directory)
    {
        Directory = directory;
        System.IO.Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        foreach (var stale in System.IO.Directory.EnumerateFiles(directory, "*.tmp"))
        {
            File.Delete(stale);
        }
        _writer = Task.Run(WriteLoopAsync);
    }

    public string Directory { get; }

    /// <summary>
    /// Queues the request's current state (serialised now, so callers holding the queue's lock keep the order of
    /// versions); completes when it is durable. One writer, so nothing blocks a caller's thread on a disk.
    /// </summary>
    public Task SaveAsync(ApprovalRequest request) => Enqueue("req-" + request.Id, JsonSerializer.SerializeToUtf8Bytes(request, Json));

    public Task SaveAsync(PreApproval pre) => Enqueue("pre-" + pre.Id, JsonSerializer.SerializeToUtf8Bytes(pre, Json));

    public Task DeleteRequestAsync(string id) => Enqueue("req-" + id, null);

    public Task DeletePreApprovalAsync(string id) => Enqueue("pre-" + id, null);

    private Task Enqueue(string name, byte[]? json)
    {
        var op = new Op(name, json, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_ops.Writer.TryWrite(op))
        {
            op.Done.TrySetException(new IOException("the approvals directory is closed"));
        }
        return op.Done.Task;
    }

    /// <summary>
    /// Writes what is queued, in order: each file to a temporary file, fsynced, renamed over the old one; then one
    /// fsync of the directory for the whole batch (group commit), and only then are the waiters told.
    /// </summary>
    private async Task WriteLoopAsync()
    {
        var batch = new List<Op>();
        while (await _ops.Reader.WaitToReadAsync())
        {
            while (batch.Count < 256 && _ops.Reader.TryRead(out var op))
            {
                batch.Add(op);
            }
            Exception? failure = null;
            try
            {
                foreach (var op in batch)
                {
                    var path = Path.Combine(Directory, op.Name + ".json");
                    if (op.Json is null)
                    {
                        File.Delete(path);
                    }
                    else
                    {
                        WriteFile(path, op.Json);
                    }
                }
                FlushDirectory();
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failure = e;
            }
            foreach (var op in batch)
            {
                if (failure is null) op.Done.TrySetResult();
                else op.Done.TrySetException(failure);
            }
            batch.Clear();
        }
    }

    /// <summary>Stops taking writes and waits for the queued ones.</summary>
    public async Task CloseAsync()
    {
        _ops.Writer.TryComplete();
        await _writer;
    }

    /// <summary>Every request on disk; files that cannot be read are reported and skipped.</summary>
    public List<ApprovalRequest> LoadRequests(Action<string> problem) => Load<ApprovalRequest>("req-", problem);

    public List<PreApproval> LoadPreApprovals(Action<string> problem) => Load<PreApproval>("pre-", problem);

    private List<T> Load<T>(string prefix, Action<string> problem)
    {
        var list = new List<T>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, prefix + "*.json"))
        {
            try
            {
                if (JsonSerializer.Deserialize<T>(File.ReadAllBytes(file), Json) is { } item)
                {
                    list.Add(item);
                }
            }
            catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
            {
                problem($"{file}: {e.Message}");
            }
        }
        return list;
    }

    private static void WriteFile(string path, byte[] json)
    {
        var temp = path + ".tmp";
        using (var file = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None,
            UnixCreateMode = OperatingSystem.IsWindows() ? null : UnixFileMode.UserRead | UnixFileMode.UserWrite,
        }))
        {
            file.Write(json);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    private void FlushDirectory()
    {
        if (Appliance.Storage.DirectorySync.Flush(Directory) is { } problem)
        {
            throw new IOException(problem);
        }
    }
}

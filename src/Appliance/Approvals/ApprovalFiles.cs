using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Serialization;

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

    private readonly object _io = new();

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
    }

    public string Directory { get; }

    public void Save(ApprovalRequest request) => Write("req-" + request.Id, JsonSerializer.SerializeToUtf8Bytes(request, Json));

    public void Save(PreApproval pre) => Write("pre-" + pre.Id, JsonSerializer.SerializeToUtf8Bytes(pre, Json));

    public void DeleteRequest(string id) => Delete("req-" + id);

    public void DeletePreApproval(string id) => Delete("pre-" + id);

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

    private void Write(string name, byte[] json)
    {
        var path = Path.Combine(Directory, name + ".json");
        var temp = path + ".tmp";
        lock (_io)
        {
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
            FlushDirectory();
        }
    }

    private void Delete(string name)
    {
        lock (_io)
        {
            File.Delete(Path.Combine(Directory, name + ".json"));
            FlushDirectory();
        }
    }

    private void FlushDirectory()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }
        int fd = Open(Directory, 0);
        if (fd < 0)
        {
            throw new IOException($"cannot open {Directory} to fsync it (errno {Marshal.GetLastPInvokeError()})");
        }
        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of {Directory} failed (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}

using System.Runtime.InteropServices;

namespace Appliance.Storage;

/// <summary>
/// fsync of a directory, so that a created, renamed or deleted file is itself durable (POSIX; .NET opens no
/// directory handles, hence libc).
/// </summary>
public static class DirectorySync
{
    /// <summary>Flushes <paramref name="directory"/>'s entries; returns an error text instead of throwing.</summary>
    public static string? Flush(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return null;
        }
        var fd = Open(directory, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            return $"cannot open directory {directory} to fsync it (errno {Marshal.GetLastPInvokeError()})";
        }
        try
        {
            return Fsync(fd) == 0 ? null : $"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})";
        }
        finally
        {
            _ = Close(fd);
        }
    }

    // DllImport rather than LibraryImport: the generator needs unsafe code, and these run once per segment.
    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static extern int Fsync(int fd);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}

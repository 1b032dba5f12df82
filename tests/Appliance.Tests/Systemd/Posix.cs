using System.Runtime.InteropServices;

namespace Appliance.Tests.Systemd;

/// <summary>The few libc calls .NET has no API for: chown and sending an arbitrary signal.</summary>
internal static class Posix
{
    public const int SigHup = 1;
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigCont = 18;
    public const int SigStop = 19;

    public static void Chown(string path, int uid, int gid)
    {
        if (NativeChown(path, uid, gid) != 0)
        {
            throw new IOException($"chown {uid}:{gid} {path} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public static void Signal(int pid, int signal)
    {
        if (NativeKill(pid, signal) != 0)
        {
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    [DllImport("libc", EntryPoint = "chown", SetLastError = true)]
    private static extern int NativeChown(string path, int owner, int group);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int NativeKill(int pid, int signal);
}

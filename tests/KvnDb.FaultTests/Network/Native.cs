using System.Runtime.InteropServices;

namespace KvnDb.FaultTests.Network;

/// <summary>The few Linux calls the lab needs that .NET does not expose.</summary>
internal static partial class Native
{
    public const int SigTerm = 15;
    public const int SigCont = 18;
    public const int SigStop = 19;

    /// <summary>CLONE_NEWNET: <c>setns</c> joins a network namespace.</summary>
    public const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int kill(int pid, int signal);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int setns(int fd, int namespaceType);

    [LibraryImport("libc")]
    public static partial uint geteuid();

    public static void Signal(int pid, int signal)
    {
        if (kill(pid, signal) != 0)
            throw new InvalidOperationException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }
}

using System.Runtime.InteropServices;

namespace KvnDb.Transport;

/// <summary>The few Linux calls the epoll transport needs (x86-64 and arm64 layouts of <c>epoll_event</c>).</summary>
internal static unsafe partial class EpollNative
{
    public const int EPOLL_CLOEXEC = 0x80000;
    public const int EPOLL_CTL_ADD = 1;
    public const int EPOLL_CTL_DEL = 2;
    public const uint EPOLLIN = 0x001;
    public const uint EPOLLOUT = 0x004;
    public const uint EPOLLERR = 0x008;
    public const uint EPOLLHUP = 0x010;
    public const uint EPOLLRDHUP = 0x2000;
    public const uint EPOLLET = 1u << 31;
    public const int EFD_CLOEXEC = 0x80000;
    public const int EFD_NONBLOCK = 0x800;
    public const int EINTR = 4;

    /// <summary>x86-64 packs <c>epoll_event</c> (12 bytes); other 64-bit Linux ABIs align its data to 8 (16 bytes).</summary>
    public static readonly bool PackedEvents = RuntimeInformation.ProcessArchitecture == Architecture.X64;

    public static int EventSize => PackedEvents ? 12 : 16;

    public static bool IsSupported =>
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    /// <summary>The default socket engine of the router and the node here: epoll where it is supported.</summary>
    public static IoEngine DefaultEngine => IsSupported ? IoEngine.Epoll : IoEngine.Sockets;

    [LibraryImport("libc", SetLastError = true)]
    public static partial int epoll_create1(int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_ctl(int epfd, int op, int fd, byte* ev);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int epoll_wait(int epfd, byte* events, int maxevents, int timeout);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int eventfd(uint initval, int flags);

    [LibraryImport("libc", SetLastError = true)]
    public static partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    public static partial int close(int fd);

    public static int Control(int epfd, int op, int fd, uint events, ulong data)
    {
        var ev = stackalloc byte[16];
        WriteEvent(ev, events, data);
        return epoll_ctl(epfd, op, fd, ev);
    }

    public static int Wait(int epfd, byte* events, int maxEvents, int timeoutMilliseconds) =>
        epoll_wait(epfd, events, maxEvents, timeoutMilliseconds);

    public static uint EventsAt(byte* events, int index) => *(uint*)(events + index * EventSize);

    public static ulong DataAt(byte* events, int index) =>
        PackedEvents ? *(ulong*)(events + index * 12 + 4) : *(ulong*)(events + index * 16 + 8);

    private static void WriteEvent(byte* ev, uint events, ulong data)
    {
        *(uint*)ev = events;
        if (PackedEvents)
            *(ulong*)(ev + 4) = data;
        else
            *(ulong*)(ev + 8) = data;
    }
}

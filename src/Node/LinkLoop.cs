using KvnDb.Transport;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node;

/// <summary>
/// The one epoll thread every router link of this process runs on (<see cref="NodeOptions.IoEngine"/> epoll): a node
/// has one link, and embedded nodes share the process's cores with the router's own loops. Started with the first
/// link and kept for the process's life.
/// </summary>
internal static class LinkLoop
{
    private static readonly Lock s_lock = new();
    private static EpollLoop? s_loop;

    public static EpollLoop Get(ILogger logger, TimeSpan busyPoll)
    {
        if (Volatile.Read(ref s_loop) is { } loop)
            return loop;
        lock (s_lock)
            return s_loop ??= new EpollLoop("kvndb-node-epoll", logger, busyPoll);
    }
}

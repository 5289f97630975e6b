using System.Net;
using System.Net.Sockets;

namespace KvnDb.Router.Transport;

/// <summary>How the epoll transport (<c>--io-engine epoll</c>) sizes its pipes and sets up its sockets.</summary>
internal sealed record EpollTransportOptions
{
    /// <summary>I/O threads, each an epoll set; connections are spread over them in turn.</summary>
    public int LoopCount { get; init; } = 1;

    /// <summary>The longest poll for the next event before a loop sleeps (zero: always sleep).</summary>
    public TimeSpan BusyPoll { get; init; }

    /// <summary>Unread input past this stops receiving from the socket (the largest frame must fit).</summary>
    public long MaxReadBufferSize { get; init; } = 1024 * 1024;

    /// <summary>Unsent output past this keeps the handler's flush pending (its back-pressure signal).</summary>
    public long MaxWriteBufferSize { get; init; } = 64 * 1024;

    public bool NoDelay { get; init; } = true;

    /// <summary>Binds the listening socket (keepalive settings are inherited by accepted sockets).</summary>
    public Func<EndPoint, Socket>? CreateBoundListenSocket { get; init; }
}

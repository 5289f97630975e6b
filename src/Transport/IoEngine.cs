namespace KvnDb.Transport;

/// <summary>The socket engine under the router's Kestrel listeners (<c>--io-engine</c>).</summary>
public enum IoEngine
{
    /// <summary>.NET's sockets (Kestrel's own transport): portable.</summary>
    Sockets,

    /// <summary>KvnDb's edge-triggered epoll loops (Linux): one receive per request and no thread-pool hop.</summary>
    Epoll,
}

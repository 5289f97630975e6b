using KvnDb.Protocol;
using KvnDb.Transport;

namespace KvnDb.Node;

/// <summary>Where the node's router is and how the node behaves on the link.</summary>
public sealed record NodeOptions
{
    public string RouterHost { get; init; } = "127.0.0.1";

    public int RouterPort { get; init; } = ProtocolLimits.DefaultPort;

    /// <summary>
    /// The routers of a router group (<c>--routers h:p,h:p</c>): the node links to whichever leads, following a
    /// standby's NotLeader redirect, and tries the next on a failure. Empty: <see cref="RouterHost"/>:<see cref="RouterPort"/> only.
    /// </summary>
    public IReadOnlyList<RouterAddress> Routers { get; init; } = [];

    /// <summary>Password presented in the hello (the router's node password).</summary>
    public string Password { get; init; } = "";

    /// <summary>TLS settings (<c>-t tls</c>); null for plain TCP.</summary>
    public KvnDb.Protocol.Tls.TlsClientSettings? Tls { get; init; }

    /// <summary>Largest frame read during the hello exchange; after it the node adopts the router's announced limits.</summary>
    public int MaxFrameSize { get; init; } = ProtocolLimits.DefaultMaxFrameSize;

    public int MaxKeySize { get; init; } = ProtocolLimits.DefaultMaxKeySize;

    /// <summary>
    /// The largest frame limit this node honours (<c>kvndb-node --max-frame</c>); null: any. A router announcing a larger
    /// one at hello is refused with a clear error (the node exits): it would forward frames the node will not take.
    /// </summary>
    public int? FrameCeiling { get; init; }

    /// <summary>The largest key limit this node honours (<c>kvndb-node --max-key</c>); null: any. As <see cref="FrameCeiling"/>.</summary>
    public int? KeyCeiling { get; init; }

    /// <summary>First reconnect delay; doubles on each failure up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan MinReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the router may take to answer the hello.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A router that sends nothing for this long is gone (<c>--router-timeout</c>): the link is closed and the
    /// node reconnects. The router pings idle node links every 250 ms; the node pings it too after a third
    /// of this. <see cref="Timeout.InfiniteTimeSpan"/> waits forever (TCP keepalive remains the only check).
    /// </summary>
    public TimeSpan RouterTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Bound on one connect attempt: TCP connect plus the TLS handshake (<c>--connect-timeout</c>).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>An in-process node of a router started with <c>--nodes N</c>: its data dies with the router (said in the hello).</summary>
    public bool Embedded { get; init; }

    /// <summary>The node's name, sent in its hello and shown in the router's logs and info (kvndb-node --name); empty: none.</summary>
    public string Name { get; init; } = "";

    /// <summary>The replica group the node holds (kvndb-node --group): the router sends it only the writes of that group's slots.</summary>
    public string Group { get; init; } = KvnDb.Protocol.HelloRequest.DefaultGroup;

    /// <summary>How often a node whose storage refuses writes checks whether it takes them again (it rejoins when it does).</summary>
    public TimeSpan StorageProbeInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Keys per chunk frame of a key listing.</summary>
    public int KeysPerChunk { get; init; } = 1024;

    /// <summary>
    /// The socket engine of the link (<c>kvndb-node --io-engine</c>): on epoll (Linux, the default there) the node applies a
    /// batch on the thread that received it, with no thread-pool hop; TLS links always run on .NET's sockets.
    /// </summary>
    public IoEngine IoEngine { get; init; } = EpollNative.DefaultEngine;

    /// <summary>
    /// The longest time the link's epoll thread polls for the router's next frame before it sleeps (<c>--busy-poll</c>,
    /// adaptive); zero always sleeps. The process has one such thread: the first link's setting is the one it keeps.
    /// </summary>
    public TimeSpan BusyPoll { get; init; } = DefaultBusyPoll;

    public static readonly TimeSpan DefaultBusyPoll = PollBeforeSleep.DefaultMax;
}

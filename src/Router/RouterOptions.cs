using KvnDb.Protocol;
using KvnDb.Transport;

namespace KvnDb.Router;

/// <summary>Everything a router is configured with. Defaults are the production defaults.</summary>
public sealed record RouterOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary><c>tcp</c>, <c>tcp6</c> (IPv6; loopback becomes ::1) or <c>tls</c> (<c>-t</c>, as in the original).</summary>
    public string Transport { get; init; } = "tcp";

    /// <summary>Router certificate for TLS: PEM (with <see cref="TlsKeyFile"/>) or PFX.</summary>
    public string? TlsCertificateFile { get; init; }

    public string? TlsKeyFile { get; init; }

    /// <summary>When set, clients and nodes must present a certificate signed by this CA (mutual TLS).</summary>
    public string? TlsCaFile { get; init; }

    /// <summary>The address actually bound: <see cref="Host"/>, or ::1 for <c>tcp6</c> left on the IPv4 loopback default.</summary>
    public string ListenHost => Transport == "tcp6" && Host == "127.0.0.1" ? "::1" : Host;

    public bool UsesTls => Transport == "tls";

    /// <summary>Port to listen on; 0 picks a free one (tests), read back from <see cref="RouterHost.Port"/>.</summary>
    public int Port { get; init; } = ProtocolLimits.DefaultPort;

    /// <summary>Port of the Redis-compatible (RESP) listener; null (the default) means none, 0 picks a free one.</summary>
    public int? RespPort { get; init; }

    /// <summary>Password clients must present; empty means none.</summary>
    public string Password { get; init; } = "";

    /// <summary>
    /// Password nodes must present, apart from the client password (<c>--node-password</c>). Null: with
    /// a client password, only embedded nodes can join; without one, nodes need none (loopback).
    /// </summary>
    public string? NodePassword { get; init; }

    /// <summary>In-process ram nodes started with the router (<c>--nodes N</c>).</summary>
    public int EmbeddedNodes { get; init; }

    public ReadPolicy ReadPolicy { get; init; } = ReadPolicy.LeastOutstanding;

    public int MaxFrameSize { get; init; } = ProtocolLimits.DefaultMaxFrameSize;

    public int MaxKeySize { get; init; } = ProtocolLimits.DefaultMaxKeySize;

    /// <summary>Requests in flight across the router before new ones are answered Busy.</summary>
    public int MaxPendingRequests { get; init; } = 1 << 20;

    /// <summary>How long a wrong password holds its own connection before the refusal (the original slept 3 s).</summary>
    public TimeSpan AuthFailureDelay { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Time a new connection has to complete its hello.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public int MaxConnections { get; init; } = 10_000;

    /// <summary>Unread output a peer may leave behind before it is disconnected (<c>--output-limit</c>); above the frame limit.</summary>
    public long OutputLimitBytes { get; init; } = 128L * 1024 * 1024;

    /// <summary>
    /// Unread output past which the router stops reading a client (back-pressure on that client alone, until it reads):
    /// the transport's pause threshold. At most half the output limit; node links pause there too (their writes wait in the log).
    /// </summary>
    public long OutputPauseBytes { get; init; } = 4L * 1024 * 1024;

    /// <summary>The smallest pause threshold (<c>--output-pause</c>): below it a client doing ordinary pipelines would pause.</summary>
    public const long MinOutputPauseBytes = 64 * 1024;

    /// <summary>
    /// Why <paramref name="pause"/> cannot be the pause threshold under <paramref name="outputLimit"/>, or null: the pause
    /// must leave at least as much room under the limit for replies already in flight (at most half the limit).
    /// </summary>
    public static string? CheckOutputPause(long pause, long outputLimit)
    {
        if (pause < MinOutputPauseBytes)
            return $"--output-pause {pause} bytes: at least {MinOutputPauseBytes} bytes (64k)";
        if (pause > outputLimit / 2)
            return $"--output-pause {pause} bytes is above half the --output-limit ({outputLimit} bytes): at most {outputLimit / 2} bytes, "
                + "so the replies already in flight when the router stops reading fit under the limit";
        return null;
    }

    /// <summary>The pause threshold in force: <see cref="OutputPauseBytes"/>, between 64 KiB and half the output limit.</summary>
    public long EffectiveOutputPause => Math.Max(64 * 1024, Math.Min(OutputPauseBytes, OutputLimitBytes / 2));

    /// <summary>Reply bytes one client may have in flight on the node links (half the output limit): bounds its window (<c>ReplyWindow</c>).</summary>
    public long ReplyBudgetBytes => Math.Max(1, OutputLimitBytes / 2);

    /// <summary>Requests one client connection may have in flight; past it the router stops reading that connection (back-pressure).</summary>
    public int MaxInFlightPerClient { get; init; } = 4096;

    /// <summary>A client connection idle this long is closed; zero (default, as Redis) never closes.</summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// Port of the HTTP endpoint (<c>--http-port</c>, plain HTTP on <see cref="Host"/>): the status page,
    /// <c>/metrics</c> (Prometheus) and <c>/health</c>. Null (the default) means none, 0 picks a free one.
    /// </summary>
    public int? HttpPort { get; init; }

    /// <summary>The former name of <see cref="HttpPort"/> (<c>--metrics-port</c>).</summary>
    public int? MetricsPort { get => HttpPort; init => HttpPort = value; }

    /// <summary>Allow binding a non-loopback address without any password (<c>--insecure</c>).</summary>
    public bool Insecure { get; init; }

    /// <summary>Bytes of recent writes kept so a returning node can be sent only what it missed (<c>--backlog</c>).</summary>
    public long BacklogBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// After a router start, how long hellos are gathered (from the first node that may be adopted)
    /// before the router adopts the most advanced eligible one as the source of truth.
    /// </summary>
    public TimeSpan JoinGrace { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Bytes per snapshot chunk pulled from a donor (flow control: one chunk in flight per sync).</summary>
    public int SnapshotChunkBytes { get; init; } = 256 * 1024;

    /// <summary>
    /// Folder of the router's durable metadata (the in-sync set and history, <c>--data</c>); null keeps
    /// it in memory only (tests, and embedded use where nothing outlives the process).
    /// </summary>
    public string? DataDirectory { get; init; }

    /// <summary>An idle node link is pinged this often (<c>--heartbeat</c>).</summary>
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>A node silent this long while it owes a reply is suspect: no reads, its reads retried elsewhere (<c>--node-timeout</c>).</summary>
    public TimeSpan NodeTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// A node silent this long leaves the in-sync set (durably) and its link is closed; writes not
    /// acknowledged by then fail Unavailable (<c>--node-evict</c>).
    /// </summary>
    public TimeSpan NodeEvictTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Adopt the most advanced node whatever the in-sync set says (<c>--force-adopt</c>): loses the writes only the missing members held.</summary>
    public bool ForceAdopt { get; init; }

    /// <summary>
    /// Run socket completions and Kestrel's pipe callbacks on the I/O thread (<c>--inline-io</c>):
    /// no thread-pool hop per read, at the price of one slow handler delaying others on that thread.
    /// </summary>
    public bool InlineIo { get; init; }

    /// <summary>
    /// Receive straight into a pool buffer (<c>--eager-reads</c>). Kestrel's default first waits for data with a zero-byte
    /// receive, so an idle connection holds no buffer; that costs one more receive call per request at pipeline depth 1.
    /// </summary>
    public bool EagerReads { get; init; }

    /// <summary>
    /// The socket engine under Kestrel (<c>--io-engine</c>): KvnDb's own edge-triggered epoll loops where Linux has them
    /// (they receive and run the handlers on their own threads and send inline), else .NET's sockets.
    /// </summary>
    public IoEngine IoEngine { get; init; } = EpollNative.DefaultEngine;

    /// <summary>The epoll engine's I/O threads (<c>--io-threads</c>); 0: half the cores, at least one.</summary>
    public int IoThreads { get; init; }

    /// <summary>
    /// The longest time an epoll thread polls for its next event before it sleeps (<c>--busy-poll</c>, adaptive: see
    /// <c>PollBeforeSleep</c>); zero always sleeps. Polling saves the sleep's context switch and the sender's wake-up.
    /// </summary>
    public TimeSpan BusyPoll { get; init; } = DefaultBusyPoll;

    public static readonly TimeSpan DefaultBusyPoll = PollBeforeSleep.DefaultMax;

    /// <summary>
    /// A flush sends on the thread that calls it (<c>--inline-io</c>, or the epoll engine): a read batch that touches many
    /// peers defers its flushes, so writes of many clients still leave in one send per node.
    /// </summary>
    public bool SendsInline => InlineIo || IoEngine == IoEngine.Epoll;

    /// <summary>Kestrel socket I/O queues (<c>--io-queues</c>); 0 keeps Kestrel's default (the core count).</summary>
    public int IoQueueCount { get; init; }

    /// <summary>
    /// The cluster's clock: the time every write and read carries to the nodes (expiry is judged by it,
    /// never by a node's clock). Tests pass a fake one they can advance.
    /// </summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>How often the router checks whether keys are due to expire and, if so, sends the nodes a time mark (<c>--expiry-interval</c>).</summary>
    public TimeSpan ExpiryInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The replica groups (<c>--groups a,b</c>): at the first start the slots are split evenly among them and the map is
    /// kept in the metadata; a group added later starts with no slots. Default: the one group <c>default</c>.
    /// </summary>
    public IReadOnlyList<string> Groups { get; init; } = [HelloRequest.DefaultGroup];

    public string EffectiveNodePassword => NodePassword ?? Password;

    /// <summary>
    /// This router's place in a router group (<c>--raft-port</c>): the leader's host is active, a standby's answers every
    /// hello with NotLeader. Null: a single router (the default).
    /// </summary>
    internal Ha.GroupRole? Group { get; init; }

    /// <summary>Where the metadata is kept; null: <c>DIR/metadata.json</c> (<see cref="DataDirectory"/>), as a single router does.</summary>
    internal Membership.IMetadataStore? MetadataStore { get; init; }
}

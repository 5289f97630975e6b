using KvnDb.Protocol;
using KvnDb.Protocol.Tls;

namespace KvnDb.Client;

/// <summary>How to reach a router and how requests behave. Immutable; use <c>with</c> to derive variants.</summary>
public sealed record KvnDbClientOptions
{
    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = ProtocolLimits.DefaultPort;

    /// <summary>
    /// The routers of a router group (<c>host:port</c> each): the client connects to whichever leads, follows a standby's
    /// redirect, and on losing its router finds the new leader. Empty (the default): <see cref="Host"/>:<see cref="Port"/> only.
    /// </summary>
    public IReadOnlyList<string> Routers { get; init; } = [];

    public string Password { get; init; } = "";

    /// <summary>How long a request may wait for its answer before failing with <see cref="KvnDbTimeoutException"/>.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Bound on one connect attempt: TCP connect, TLS handshake and hello.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>After this long without a byte from the router the client sends a ping (<see cref="Timeout.InfiniteTimeSpan"/>: never).</summary>
    public TimeSpan PingInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A router that sends nothing for this long, pings included, is gone: the connection is dropped,
    /// every request in flight fails with <see cref="KvnDbConnectionException"/>, and the client reconnects in
    /// the background (<see cref="Timeout.InfiniteTimeSpan"/>: never, TCP keepalive remains the only check).
    /// </summary>
    public TimeSpan RouterTimeout { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>This many requests in a row that time out, with no answer in between, drop the connection too (0: never).</summary>
    public int MaxConsecutiveTimeouts { get; init; } = 3;

    /// <summary>First delay between reconnect attempts after a failed one; doubles up to <see cref="ReconnectMaxDelay"/>, with jitter.</summary>
    public TimeSpan ReconnectMinDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Write concern used when a call does not name one.</summary>
    public WriteConcern WriteConcern { get; init; } = WriteConcern.All;

    /// <summary>TLS settings (<c>-t tls</c>); null for plain TCP.</summary>
    public TlsClientSettings? Tls { get; init; }

    /// <summary>Largest frame accepted from the router.</summary>
    public int MaxFrameSize { get; init; } = ProtocolLimits.DefaultMaxFrameSize;

    /// <summary>
    /// Makes the socket of each connection (null: a new TCP socket). Tests place it in a network namespace, so a client
    /// in the test process reaches routers on a simulated network, redirects included.
    /// </summary>
    internal Func<System.Net.Sockets.Socket>? SocketFactory { get; init; }

    /// <summary>Parses "host:port" or "host" (default port).</summary>
    public static KvnDbClientOptions FromEndpoint(string endpoint, string password = "")
    {
        var colon = endpoint.LastIndexOf(':');
        return colon > 0 && int.TryParse(endpoint.AsSpan(colon + 1), out var port)
            ? new KvnDbClientOptions { Host = endpoint[..colon], Port = port, Password = password }
            : new KvnDbClientOptions { Host = endpoint, Password = password };
    }
}

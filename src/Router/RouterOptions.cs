using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>Everything a router is configured with. Defaults are the production defaults.</summary>
public sealed record RouterOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Port to listen on; 0 picks a free one (tests), read back from <see cref="RouterHost.Port"/>.</summary>
    public int Port { get; init; } = ProtocolLimits.DefaultPort;

    /// <summary>Password clients must present; empty means none.</summary>
    public string Password { get; init; } = "";

    /// <summary>Password nodes must present; null means the client password.</summary>
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

    /// <summary>Bytes of recent writes kept so a returning node can be sent only what it missed (<c>--backlog</c>).</summary>
    public long BacklogBytes { get; init; } = 64L * 1024 * 1024;

    /// <summary>
    /// After a router start, how long the first nodes' hellos are gathered before the router adopts
    /// the most advanced one as the reference history (the others catch up from it).
    /// </summary>
    public TimeSpan JoinGrace { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Bytes per snapshot chunk pulled from a donor (flow control: one chunk in flight per sync).</summary>
    public int SnapshotChunkBytes { get; init; } = 256 * 1024;

    public string EffectiveNodePassword => NodePassword ?? Password;
}

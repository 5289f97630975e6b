using KvnDb.Protocol;

namespace KvnDb.Node;

/// <summary>Where the node's router is and how the node behaves on the link.</summary>
public sealed record NodeOptions
{
    public string RouterHost { get; init; } = "127.0.0.1";

    public int RouterPort { get; init; } = ProtocolLimits.DefaultPort;

    /// <summary>Password presented in the hello (the router's node password).</summary>
    public string Password { get; init; } = "";

    /// <summary>TLS settings (<c>-t tls</c>); null for plain TCP.</summary>
    public KvnDb.Protocol.Tls.TlsClientSettings? Tls { get; init; }

    public int MaxFrameSize { get; init; } = ProtocolLimits.DefaultMaxFrameSize;

    public int MaxKeySize { get; init; } = ProtocolLimits.DefaultMaxKeySize;

    /// <summary>First reconnect delay; doubles on each failure up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan MinReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Keys per chunk frame of a key listing.</summary>
    public int KeysPerChunk { get; init; } = 1024;
}

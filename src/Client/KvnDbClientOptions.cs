using KvnDb.Protocol;
using KvnDb.Protocol.Tls;

namespace KvnDb.Client;

/// <summary>How to reach a router and how requests behave. Immutable; use <c>with</c> to derive variants.</summary>
public sealed record KvnDbClientOptions
{
    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = ProtocolLimits.DefaultPort;

    public string Password { get; init; } = "";

    /// <summary>How long a request may wait for its answer before failing with <see cref="KvnDbTimeoutException"/>.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Write concern used when a call does not name one.</summary>
    public WriteConcern WriteConcern { get; init; } = WriteConcern.All;

    /// <summary>TLS settings (<c>-t tls</c>); null for plain TCP.</summary>
    public TlsClientSettings? Tls { get; init; }

    /// <summary>Largest frame accepted from the router.</summary>
    public int MaxFrameSize { get; init; } = ProtocolLimits.DefaultMaxFrameSize;

    /// <summary>Parses "host:port" or "host" (default port).</summary>
    public static KvnDbClientOptions FromEndpoint(string endpoint, string password = "")
    {
        var colon = endpoint.LastIndexOf(':');
        return colon > 0 && int.TryParse(endpoint.AsSpan(colon + 1), out var port)
            ? new KvnDbClientOptions { Host = endpoint[..colon], Port = port, Password = password }
            : new KvnDbClientOptions { Host = endpoint, Password = password };
    }
}

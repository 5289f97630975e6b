namespace KvnDb.Router;

/// <summary>The router options a front door (RESP) applies to its clients: limits, password, ports.</summary>
internal sealed record FrontDoorOptions
{
    /// <summary>The native port (INFO shows it beside the RESP port).</summary>
    public required int Port { get; init; }

    public required string Password { get; init; }

    public required int MaxFrameSize { get; init; }

    public required int MaxKeySize { get; init; }

    public required TimeSpan AuthFailureDelay { get; init; }

    public required int MaxConnections { get; init; }

    public required long OutputLimitBytes { get; init; }

    public required int MaxInFlightPerClient { get; init; }

    /// <summary>How long a connection may stay unauthenticated (<c>--handshake-timeout</c>); zero: no limit.</summary>
    public TimeSpan HandshakeTimeout { get; init; }
}

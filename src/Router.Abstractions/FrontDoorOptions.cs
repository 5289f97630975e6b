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

    /// <summary>Unread output past which a session stops reading its client (the transport's pause threshold).</summary>
    public long OutputPauseBytes { get; init; } = 4L * 1024 * 1024;

    /// <summary>Reply bytes one client may have in flight on the node links (<see cref="ReplyWindow"/>).</summary>
    public long ReplyBudgetBytes => Math.Max(1, OutputLimitBytes / 2);

    /// <summary>Bytes a backed-up client's output may hold beyond the transport's share before the client is cut off.</summary>
    public long OutputHoldLimit => Math.Max(0, OutputLimitBytes - OutputPauseBytes);

    /// <summary>How long a connection may stay unauthenticated (<c>--handshake-timeout</c>); zero: no limit.</summary>
    public TimeSpan HandshakeTimeout { get; init; }
}

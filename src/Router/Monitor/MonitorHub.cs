using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// The router's monitors (<see cref="Opcode.Monitor"/>): each gets a description of every client request.
/// With none subscribed, a request costs one volatile read here (the hot path allocates nothing); with
/// some, each request is described once (its first key copied, cut short) and offered to every monitor's
/// bounded queue, which drops rather than waits: a slow monitor never slows a write.
/// </summary>
internal sealed class MonitorHub
{
    private readonly Lock _lock = new();
    private volatile MonitorSubscription[] _subscriptions = [];

    public bool IsActive => _subscriptions.Length > 0;

    public int Count => _subscriptions.Length;

    /// <summary>Describes a request to every monitor; call only when <see cref="IsActive"/>.</summary>
    public void Publish(long clientId, string address, in FrameHeader header, ReadOnlySpan<byte> body)
    {
        var subscriptions = _subscriptions;
        if (subscriptions.Length == 0)
            return;
        var key = MonitorEvent.FirstKey(header.Opcode, body, out var keyCount);
        var described = new MonitorEvent(MonitorEventKind.Command, RouterTimeMicros(), (ulong)clientId, header.Opcode, keyCount,
            (uint)body.Length, key.ToArray(), address);
        foreach (var subscription in subscriptions)
            subscription.Offer(described);
    }

    public MonitorSubscription Subscribe(long sessionId, OutputChannel output, ulong requestId)
    {
        var subscription = new MonitorSubscription(sessionId, output, requestId);
        // Started goes first, before any request can be offered to it.
        subscription.Offer(new MonitorEvent(MonitorEventKind.Started, RouterTimeMicros(), 0, Opcode.Monitor, 0, 0, [], ""));
        lock (_lock)
            _subscriptions = [.. _subscriptions, subscription];
        return subscription;
    }

    /// <summary>Ends a session's monitor (a stop request, or the connection closed); false when it had none.</summary>
    public bool Unsubscribe(long sessionId)
    {
        MonitorSubscription? removed;
        lock (_lock)
        {
            removed = _subscriptions.FirstOrDefault(s => s.SessionId == sessionId);
            if (removed is null)
                return false;
            _subscriptions = [.. _subscriptions.Where(s => s != removed)];
        }
        removed.Complete();
        return true;
    }

    private static long RouterTimeMicros() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
}

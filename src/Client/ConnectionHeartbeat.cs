namespace KvnDb.Client;

/// <summary>
/// Decides whether a connection's router is alive, from three facts its connection reports: a read
/// came back (<see cref="Heard"/>), a request was answered (<see cref="Answered"/>), requests timed
/// out (<see cref="TimedOut"/>). Its timer asks <see cref="Check"/> what to do: ping after
/// <see cref="KvnDbClientOptions.PingInterval"/> of silence; give up after
/// <see cref="KvnDbClientOptions.RouterTimeout"/>, but only once a ping sent during this silence has had
/// time to be answered and no byte waits unread (so a late timer or a paused process pings before it
/// gives up rather than dropping a live router). Times are <see cref="Environment.TickCount64"/> milliseconds.
/// </summary>
internal sealed class ConnectionHeartbeat(KvnDbClientOptions options, long nowMs)
{
    private readonly long _pingIntervalMs = Milliseconds(options.PingInterval);
    private readonly long _routerTimeoutMs = Milliseconds(options.RouterTimeout);
    private long _lastReceivedMs = nowMs;
    private long _lastPingMs;
    private int _consecutiveTimeouts;

    public enum Verdict
    {
        Fine,
        Ping,
        Dead,
    }

    /// <summary>Milliseconds since the last read came back.</summary>
    public long SilentMs(long nowMs) => nowMs - Volatile.Read(ref _lastReceivedMs);

    public void Heard(long nowMs) => Volatile.Write(ref _lastReceivedMs, nowMs);

    /// <summary>A request got its answer: the timeouts before it were not in a row.</summary>
    public void Answered()
    {
        if (Volatile.Read(ref _consecutiveTimeouts) != 0)
            Volatile.Write(ref _consecutiveTimeouts, 0);
    }

    /// <summary>Requests expired; true when that makes <see cref="KvnDbClientOptions.MaxConsecutiveTimeouts"/> in a row.</summary>
    public bool TimedOut(int count, out int inARow)
    {
        inARow = Interlocked.Add(ref _consecutiveTimeouts, count);
        return options.MaxConsecutiveTimeouts > 0 && inARow >= options.MaxConsecutiveTimeouts;
    }

    /// <summary>What the timer should do now. <see cref="Verdict.Ping"/> counts as sent.</summary>
    public Verdict Check(long nowMs, Func<bool> hasUnreadBytes)
    {
        var lastReceived = Volatile.Read(ref _lastReceivedMs);
        var silent = nowMs - lastReceived;
        if (_routerTimeoutMs > 0 && silent >= _routerTimeoutMs && AskedInVain(nowMs, lastReceived) && !hasUnreadBytes())
            return Verdict.Dead;
        if (_pingIntervalMs > 0 && silent >= _pingIntervalMs && nowMs - _lastPingMs >= _pingIntervalMs)
        {
            _lastPingMs = nowMs;
            return Verdict.Ping;
        }
        return Verdict.Fine;
    }

    /// <summary>A ping went out during this silence long enough ago to have been answered (with pings off: always).</summary>
    private bool AskedInVain(long nowMs, long lastReceived)
    {
        if (_pingIntervalMs == 0)
            return true;
        var grace = Math.Min(_pingIntervalMs, _routerTimeoutMs / 3);
        return _lastPingMs >= lastReceived && nowMs - _lastPingMs >= grace;
    }

    /// <summary>0 for a disabled (zero or infinite) interval.</summary>
    private static long Milliseconds(TimeSpan interval) =>
        interval <= TimeSpan.Zero || interval == Timeout.InfiniteTimeSpan ? 0 : (long)interval.TotalMilliseconds;
}

namespace KvnDb.Node;

/// <summary>
/// Notices a router that went silent, without an allocation or a timer per read. The link stamps the
/// moment it starts waiting for the router (<see cref="Waiting"/>, at the end of every batch) and clears
/// the stamp while it handles frames (<see cref="Busy"/>): only time spent waiting counts, so a long
/// batch (a digest, the end of a sync) is never mistaken for silence. A periodic check compares the stamp
/// with the clock. After a third of the timeout it asks the link for a ping (the router pings idle links
/// itself; this covers a router whose heartbeat is slower than our timeout). The router is declared gone
/// only when the whole timeout has passed, a ping went out at least a third of the timeout ago, and no
/// byte waits unread in the socket: a node that was paused itself (GC, a starved machine, a late timer)
/// finds the router's frames waiting and is not fooled. Either way the check cancels the pending read,
/// and the link's loop looks at <see cref="State"/>.
/// </summary>
internal sealed class LinkWatchdog : IDisposable
{
    private readonly TimeProvider _time;
    private readonly long _pingAfter;
    private readonly long _expireAfter;
    private readonly Action _cancelRead;
    private readonly Func<bool> _hasUnreadBytes;
    private readonly TimeSpan _period;
    private readonly bool _enabled;
    private ITimer? _timer;
    private long _waitingSince; // timestamp, 0 while frames are handled
    private long _pingSentAt;
    private long _expiredStamp;
    private int _state;

    public LinkWatchdog(TimeSpan timeout, Action cancelRead, Func<bool>? hasUnreadBytes = null, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _cancelRead = cancelRead;
        _hasUnreadBytes = hasUnreadBytes ?? (static () => false);
        Timeout = timeout;
        if (timeout <= TimeSpan.Zero || timeout == System.Threading.Timeout.InfiniteTimeSpan)
            return;
        _expireAfter = (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        _pingAfter = _expireAfter / 3;
        _enabled = true;
        _period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 12, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerMillisecond * 250));
    }

    public enum WatchState
    {
        Fine = 0,
        /// <summary>Silent for a third of the timeout: the link should send a ping.</summary>
        PingDue = 1,
        /// <summary>A ping was sent; still waiting for anything at all.</summary>
        PingSent = 2,
        /// <summary>Silent for the whole timeout, ping unanswered: the router is gone.</summary>
        Expired = 3,
    }

    public TimeSpan Timeout { get; }

    public WatchState State => (WatchState)Volatile.Read(ref _state);

    /// <summary>
    /// The cancelled read was for an expiry that still holds (nothing arrived since the decision).
    /// A frame that arrived just as the check fired clears it: the read's cancellation is then ignored.
    /// </summary>
    public bool IsExpired => State == WatchState.Expired && Volatile.Read(ref _waitingSince) == Volatile.Read(ref _expiredStamp);

    /// <summary>How long the router has been silent (zero while frames are handled).</summary>
    public TimeSpan Silence
    {
        get
        {
            var since = Volatile.Read(ref _waitingSince);
            return since == 0 ? TimeSpan.Zero : _time.GetElapsedTime(since);
        }
    }

    /// <summary>Starts the periodic check (once the link serves); silence counts from now.</summary>
    public void Start()
    {
        if (!_enabled || _timer is not null)
            return;
        Waiting();
        _timer = _time.CreateTimer(static s => ((LinkWatchdog)s!).Check(), this, _period, _period);
    }

    /// <summary>Frames are being handled: the router is not silent, and the wait that follows starts afresh.</summary>
    public void Busy()
    {
        if (!_enabled)
            return;
        Volatile.Write(ref _waitingSince, 0);
        if (_state != (int)WatchState.Fine)
            Volatile.Write(ref _state, (int)WatchState.Fine);
    }

    /// <summary>The link starts waiting for the router (end of a batch): silence is measured from now.</summary>
    public void Waiting()
    {
        if (!_enabled)
            return;
        Volatile.Write(ref _waitingSince, Math.Max(1, _time.GetTimestamp()));
        if (_state != (int)WatchState.Fine)
            Volatile.Write(ref _state, (int)WatchState.Fine);
    }

    /// <summary>The ping asked for has been sent; the silence goes on counting from where it started.</summary>
    public void PingSent()
    {
        Volatile.Write(ref _pingSentAt, _time.GetTimestamp());
        Interlocked.CompareExchange(ref _state, (int)WatchState.PingSent, (int)WatchState.PingDue);
    }

    /// <summary>One check (the timer calls it; tests call it with a manual clock).</summary>
    public void Check()
    {
        var since = Volatile.Read(ref _waitingSince);
        if (!_enabled || since == 0)
            return;
        var now = _time.GetTimestamp();
        var silent = now - since;
        switch ((WatchState)Volatile.Read(ref _state))
        {
            case WatchState.Fine when silent >= _pingAfter:
                if (Interlocked.CompareExchange(ref _state, (int)WatchState.PingDue, (int)WatchState.Fine) == (int)WatchState.Fine)
                    _cancelRead();
                break;
            case WatchState.PingSent when silent >= _expireAfter && now - Volatile.Read(ref _pingSentAt) >= _pingAfter:
                if (_hasUnreadBytes())
                    break; // the router spoke; this process has not read it yet
                Volatile.Write(ref _expiredStamp, since);
                if (Interlocked.CompareExchange(ref _state, (int)WatchState.Expired, (int)WatchState.PingSent) == (int)WatchState.PingSent)
                    _cancelRead();
                break;
        }
    }

    public void Dispose() => _timer?.Dispose();
}

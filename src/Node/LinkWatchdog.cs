namespace KvnDb.Node;

/// <summary>
/// Notices a router that went silent, without a timer or an allocation per read. The link stamps the
/// moment it starts waiting for the router (<see cref="Waiting"/>, at the end of every batch) and clears
/// the stamp while it handles frames (<see cref="Busy"/>): only time spent waiting counts, so a long
/// batch (a digest, the end of a sync) is never mistaken for silence. A periodic check compares the stamp
/// with the clock: after a third of the timeout it asks for a ping (the router pings idle links itself;
/// this covers a router whose heartbeat is slower than our timeout), after the whole timeout it declares
/// the router gone. Either way it cancels the pending read, and the link's loop looks at <see cref="State"/>.
/// </summary>
internal sealed class LinkWatchdog : IDisposable
{
    private readonly TimeProvider _time;
    private readonly long _pingAfter;
    private readonly long _expireAfter;
    private readonly Action _cancelRead;
    private readonly TimeSpan _period;
    private readonly bool _enabled;
    private ITimer? _timer;
    private long _waitingSince; // timestamp, 0 while frames are handled
    private long _expiredStamp;
    private int _state;

    public LinkWatchdog(TimeSpan timeout, Action cancelRead, TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        _cancelRead = cancelRead;
        Timeout = timeout;
        if (timeout <= TimeSpan.Zero || timeout == System.Threading.Timeout.InfiniteTimeSpan)
            return;
        _expireAfter = (long)(timeout.TotalSeconds * _time.TimestampFrequency);
        _pingAfter = _expireAfter / 3;
        _enabled = true;
        _period = TimeSpan.FromTicks(Math.Clamp(timeout.Ticks / 12, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerMillisecond * 250));
    }

    /// <summary>Starts the periodic check (once the link serves); silence counts from now.</summary>
    public void Start()
    {
        if (!_enabled || _timer is not null)
            return;
        Waiting();
        _timer = _time.CreateTimer(static s => ((LinkWatchdog)s!).Check(), this, _period, _period);
    }

    public enum WatchState
    {
        Fine = 0,
        /// <summary>Silent for a third of the timeout: the link should send a ping.</summary>
        PingDue = 1,
        /// <summary>A ping was sent; still waiting for anything at all.</summary>
        PingSent = 2,
        /// <summary>Silent for the whole timeout: the router is gone.</summary>
        Expired = 3,
    }

    public TimeSpan Timeout { get; }

    public WatchState State => (WatchState)Volatile.Read(ref _state);

    /// <summary>
    /// The cancelled read was for an expiry that still holds (nothing arrived since the decision).
    /// A frame that arrived just as the check fired clears it: the read's cancellation is then ignored.
    /// </summary>
    public bool IsExpired => State == WatchState.Expired && Volatile.Read(ref _waitingSince) == Volatile.Read(ref _expiredStamp);

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
    public void PingSent() => Interlocked.CompareExchange(ref _state, (int)WatchState.PingSent, (int)WatchState.PingDue);

    /// <summary>One check (the timer calls it; tests call it with a manual clock).</summary>
    public void Check()
    {
        var since = Volatile.Read(ref _waitingSince);
        if (!_enabled || since == 0)
            return;
        var silent = _time.GetTimestamp() - since;
        if (silent >= _expireAfter)
        {
            Volatile.Write(ref _expiredStamp, since);
            if (Interlocked.Exchange(ref _state, (int)WatchState.Expired) != (int)WatchState.Expired)
                _cancelRead();
        }
        else if (silent >= _pingAfter && Interlocked.CompareExchange(ref _state, (int)WatchState.PingDue, (int)WatchState.Fine) == (int)WatchState.Fine)
        {
            _cancelRead();
        }
    }

    /// <summary>How long the router has been silent (zero while frames are handled).</summary>
    public TimeSpan Silence
    {
        get
        {
            var since = Volatile.Read(ref _waitingSince);
            return since == 0 ? TimeSpan.Zero : _time.GetElapsedTime(since);
        }
    }

    public void Dispose() => _timer?.Dispose();
}

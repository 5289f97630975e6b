using KvnDb.Node;

namespace KvnDb.UnitTests.Node;

/// <summary>The node's silent-router check, on a clock the test moves (no timers, no sleeps).</summary>
public sealed class LinkWatchdogTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    private readonly ManualClock _clock = new();
    private int _cancels;
    private bool _unread;

    private LinkWatchdog Create()
    {
        var watchdog = new LinkWatchdog(Timeout, () => _cancels++, () => _unread, _clock);
        watchdog.Waiting();
        return watchdog;
    }

    /// <summary>Silent long enough to ping; the ping goes out.</summary>
    private void PingAfter(LinkWatchdog watchdog, TimeSpan silence)
    {
        _clock.Advance(silence);
        watchdog.Check();
        Assert.Equal(LinkWatchdog.WatchState.PingDue, watchdog.State);
        watchdog.PingSent();
    }

    [Fact]
    public void A_third_of_the_timeout_asks_for_a_ping_and_the_whole_timeout_expires()
    {
        using var watchdog = Create();
        _clock.Advance(TimeSpan.FromSeconds(0.9));
        watchdog.Check();
        Assert.Equal(LinkWatchdog.WatchState.Fine, watchdog.State);
        Assert.Equal(0, _cancels);

        _clock.Advance(TimeSpan.FromSeconds(0.2));
        watchdog.Check();
        Assert.Equal(LinkWatchdog.WatchState.PingDue, watchdog.State);
        Assert.Equal(1, _cancels);
        watchdog.PingSent();
        watchdog.Check();
        Assert.Equal(1, _cancels); // one cancellation per ping

        _clock.Advance(TimeSpan.FromSeconds(1.8));
        watchdog.Check();
        Assert.False(watchdog.IsExpired); // 2.9 s of silence
        _clock.Advance(TimeSpan.FromSeconds(0.2)); // 3.1 s: the ping did not restart the count
        watchdog.Check();
        Assert.True(watchdog.IsExpired);
        Assert.Equal(2, _cancels);
        Assert.True(watchdog.Silence >= Timeout);
    }

    [Fact]
    public void Time_spent_handling_frames_is_not_silence()
    {
        using var watchdog = Create();
        watchdog.Busy(); // a batch that takes ten seconds (a digest, the end of a sync)
        _clock.Advance(TimeSpan.FromSeconds(10));
        watchdog.Check();
        Assert.Equal(0, _cancels);
        watchdog.Waiting(); // the batch ended: the silence starts now
        _clock.Advance(TimeSpan.FromSeconds(2.9));
        watchdog.Check();
        Assert.False(watchdog.IsExpired);
        Assert.Equal(LinkWatchdog.WatchState.PingDue, watchdog.State);
    }

    [Fact]
    public void A_frame_arriving_as_the_check_fires_cancels_the_expiry()
    {
        using var watchdog = Create();
        PingAfter(watchdog, TimeSpan.FromSeconds(1));
        _clock.Advance(TimeSpan.FromSeconds(3));
        watchdog.Check();
        Assert.True(watchdog.IsExpired);
        watchdog.Busy(); // the read had already returned with a frame
        Assert.False(watchdog.IsExpired);
        Assert.Equal(LinkWatchdog.WatchState.Fine, watchdog.State);
    }

    [Fact]
    public void A_late_check_pings_first_and_expires_only_a_third_of_the_timeout_later()
    {
        using var watchdog = Create();
        PingAfter(watchdog, TimeSpan.FromSeconds(10)); // the timer came ten seconds late (a paused process)
        watchdog.Check();
        Assert.False(watchdog.IsExpired); // the ping has had no time to be answered
        _clock.Advance(TimeSpan.FromSeconds(1));
        watchdog.Check();
        Assert.True(watchdog.IsExpired);
    }

    [Fact]
    public void Bytes_waiting_unread_in_the_socket_are_not_silence()
    {
        using var watchdog = Create();
        PingAfter(watchdog, TimeSpan.FromSeconds(1));
        _clock.Advance(TimeSpan.FromSeconds(5));
        _unread = true;
        watchdog.Check();
        Assert.False(watchdog.IsExpired);
        _unread = false;
        watchdog.Check();
        Assert.True(watchdog.IsExpired);
    }

    [Fact]
    public void An_infinite_timeout_never_fires()
    {
        using var watchdog = new LinkWatchdog(System.Threading.Timeout.InfiniteTimeSpan, () => _cancels++, time: _clock);
        watchdog.Start();
        watchdog.Waiting();
        _clock.Advance(TimeSpan.FromHours(1));
        watchdog.Check();
        Assert.Equal(0, _cancels);
        Assert.False(watchdog.IsExpired);
    }

    /// <summary>A clock that moves only when told; its timers never fire (tests call Check).</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks = TimeSpan.TicksPerDay;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}

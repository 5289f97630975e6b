using KvnDb.Client;
using Verdict = KvnDb.Client.ConnectionHeartbeat.Verdict;

namespace KvnDb.UnitTests.Client;

/// <summary>The client's liveness rules at chosen instants (milliseconds), without sockets or timers.</summary>
public sealed class ConnectionHeartbeatTests
{
    private static readonly KvnDbClientOptions Defaults = new(); // ping after 1 s, dead after 3 s, 3 timeouts in a row
    private const long Start = 1_000_000;

    private static bool NothingUnread() => false;

    [Fact]
    public void Silence_brings_a_ping_each_interval_and_death_after_the_router_timeout()
    {
        var heartbeat = new ConnectionHeartbeat(Defaults, Start);
        Assert.Equal(Verdict.Fine, heartbeat.Check(Start + 999, NothingUnread));
        Assert.Equal(Verdict.Ping, heartbeat.Check(Start + 1_000, NothingUnread));
        Assert.Equal(Verdict.Fine, heartbeat.Check(Start + 1_500, NothingUnread)); // one ping per interval
        Assert.Equal(Verdict.Ping, heartbeat.Check(Start + 2_000, NothingUnread));
        Assert.Equal(Verdict.Fine, heartbeat.Check(Start + 2_999, NothingUnread));
        Assert.Equal(Verdict.Dead, heartbeat.Check(Start + 3_000, NothingUnread));
    }

    [Fact]
    public void Hearing_anything_restarts_the_silence()
    {
        var heartbeat = new ConnectionHeartbeat(Defaults, Start);
        Assert.Equal(Verdict.Ping, heartbeat.Check(Start + 1_000, NothingUnread));
        heartbeat.Heard(Start + 1_010); // the pong
        Assert.Equal(Verdict.Fine, heartbeat.Check(Start + 2_000, NothingUnread));
        Assert.Equal(Verdict.Ping, heartbeat.Check(Start + 3_500, NothingUnread)); // silent again, not yet dead
        Assert.Equal(2_490, heartbeat.SilentMs(Start + 3_500));
    }

    [Fact]
    public void A_late_timer_pings_before_it_gives_up()
    {
        var heartbeat = new ConnectionHeartbeat(Defaults, Start);
        Assert.Equal(Verdict.Ping, heartbeat.Check(Start + 10_000, NothingUnread)); // the process was paused ten seconds
        Assert.Equal(Verdict.Fine, heartbeat.Check(Start + 10_500, NothingUnread)); // the ping needs time for its answer
        Assert.Equal(Verdict.Dead, heartbeat.Check(Start + 11_000, NothingUnread));
    }

    [Fact]
    public void Bytes_waiting_unread_are_not_silence()
    {
        var heartbeat = new ConnectionHeartbeat(Defaults, Start);
        heartbeat.Check(Start + 2_000, NothingUnread);
        Assert.NotEqual(Verdict.Dead, heartbeat.Check(Start + 5_000, () => true));
    }

    [Fact]
    public void Timeouts_in_a_row_count_until_an_answer()
    {
        var heartbeat = new ConnectionHeartbeat(Defaults, Start);
        Assert.False(heartbeat.TimedOut(2, out _));
        heartbeat.Answered();
        Assert.False(heartbeat.TimedOut(2, out var inARow));
        Assert.Equal(2, inARow);
        Assert.True(heartbeat.TimedOut(1, out inARow));
        Assert.Equal(3, inARow);
    }

    [Fact]
    public void Disabled_checks_never_fire()
    {
        var off = Defaults with { PingInterval = Timeout.InfiniteTimeSpan, RouterTimeout = Timeout.InfiniteTimeSpan, MaxConsecutiveTimeouts = 0 };
        var heartbeat = new ConnectionHeartbeat(off, Start);
        Assert.Equal(Verdict.Fine, heartbeat.Check(Start + 3_600_000, NothingUnread));
        Assert.False(heartbeat.TimedOut(1_000, out _));
    }

    [Fact]
    public void Without_pings_silence_alone_is_death()
    {
        var heartbeat = new ConnectionHeartbeat(Defaults with { PingInterval = Timeout.InfiniteTimeSpan }, Start);
        Assert.Equal(Verdict.Fine, heartbeat.Check(Start + 2_999, NothingUnread));
        Assert.Equal(Verdict.Dead, heartbeat.Check(Start + 3_000, NothingUnread));
    }
}

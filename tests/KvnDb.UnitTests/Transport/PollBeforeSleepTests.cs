using System.Diagnostics;
using KvnDb.Transport;

namespace KvnDb.UnitTests.Transport;

/// <summary>The busy-poll window's decisions, on timestamps the test gives (no clock, no sleeps).</summary>
public sealed class PollBeforeSleepTests
{
    private static readonly TimeSpan Max = TimeSpan.FromMicroseconds(80);

    private static long Ticks(double microseconds) => (long)(microseconds * Stopwatch.Frequency / 1_000_000);

    [Fact]
    public void A_zero_window_always_sleeps()
    {
        var poll = new PollBeforeSleep(TimeSpan.Zero);
        Assert.False(poll.Enabled);
        poll.Handled(1000);
        Assert.Equal(-1, poll.NextTimeout(1001));
        poll.Woke(1002);
        Assert.Equal(TimeSpan.Zero, poll.Window);
    }

    [Fact]
    public void After_a_wake_up_the_loop_polls_until_the_window_ends_then_sleeps()
    {
        var poll = new PollBeforeSleep(Max);
        var handled = Ticks(1_000);
        poll.Handled(handled);
        Assert.Equal(0, poll.NextTimeout(handled + Ticks(1)));
        Assert.Equal(0, poll.NextTimeout(handled + Ticks(79)));
        Assert.Equal(-1, poll.NextTimeout(handled + Ticks(81)));
        // Once asleep, the next wait sleeps too until events are handled again.
        Assert.Equal(-1, poll.NextTimeout(handled + Ticks(82)));
    }

    [Fact]
    public void Long_sleeps_shrink_the_window_to_nothing_and_short_ones_grow_it_back_to_the_maximum()
    {
        var poll = new PollBeforeSleep(Max);
        var now = Ticks(1_000);
        void SleepFor(double microseconds)
        {
            poll.Handled(now);
            now += (long)(poll.Window.TotalSeconds * Stopwatch.Frequency) + 1;
            Assert.Equal(-1, poll.NextTimeout(now));
            now += Ticks(microseconds);
            poll.Woke(now);
        }

        // Idle: events come far later than the longest window, so polling is wasted: 80 → 40 → 20 → 10 → 0.
        foreach (var expected in new[] { 40, 20, 10, 0 })
        {
            SleepFor(10_000);
            Assert.Equal(expected, poll.Window.TotalMicroseconds, 0.5);
        }
        poll.Handled(now);
        Assert.Equal(-1, poll.NextTimeout(now + 1)); // a zero window never polls

        // Busy again: each event came soon after the loop slept, so a longer poll would have caught it: 0 → 10 → 20 → 40 → 80 → 80.
        foreach (var expected in new[] { 10, 20, 40, 80, 80 })
        {
            SleepFor(30);
            Assert.Equal(expected, poll.Window.TotalMicroseconds, 0.5);
        }
    }
}

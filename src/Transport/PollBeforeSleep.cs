using System.Diagnostics;

namespace KvnDb.Transport;

/// <summary>
/// How long an I/O loop polls for its next event before it sleeps in <c>epoll_wait</c>. Sleeping costs more than the
/// call: a context switch for the loop, and for whoever sends to it next a wake-up of a sleeping thread (an
/// inter-processor interrupt, expensive on a VM). Profiled at low load, those two were over half of the router's CPU.
/// The window adapts as KVM's halt polling does: it grows while the loop is woken soon after it gave up (polling a
/// little longer would have caught the event), and shrinks while events come later than the longest window, so an idle
/// loop stops polling at once and a loop whose traffic is sparse polls not at all.
/// </summary>
internal sealed class PollBeforeSleep
{
    /// <summary>The default longest window of the router's and the node's loops (<c>--busy-poll</c>).</summary>
    public static readonly TimeSpan DefaultMax = TimeSpan.FromMicroseconds(50);

    private readonly long _maxTicks;
    private readonly long _minTicks;
    private long _windowTicks;
    private long _pollUntil;
    private long _sleptAt;

    /// <param name="max">The longest window; zero never polls (every wait sleeps).</param>
    public PollBeforeSleep(TimeSpan max)
    {
        _maxTicks = (long)(max.TotalSeconds * Stopwatch.Frequency);
        _minTicks = _maxTicks / 8;
        _windowTicks = _maxTicks;
    }

    public bool Enabled => _maxTicks > 0;

    /// <summary>The current window, for tests and the loop's diagnostics.</summary>
    public TimeSpan Window => TimeSpan.FromSeconds((double)_windowTicks / Stopwatch.Frequency);

    /// <summary>The loop handled a wake-up's events: poll for the next one until the window ends.</summary>
    public void Handled(long now) => _pollUntil = _windowTicks == 0 ? 0 : now + _windowTicks;

    /// <summary>The timeout of the next <c>epoll_wait</c>: 0 (poll) while the window lasts, -1 (sleep) after it.</summary>
    public int NextTimeout(long now)
    {
        if (_pollUntil != 0 && now < _pollUntil)
            return 0;
        _pollUntil = 0;
        _sleptAt = now;
        return -1;
    }

    /// <summary>A sleeping wait returned: adapt the window to how long the sleep was.</summary>
    public void Woke(long now)
    {
        if (!Enabled || _sleptAt == 0)
            return;
        var slept = now - _sleptAt;
        _sleptAt = 0;
        if (slept < _maxTicks)
            _windowTicks = Math.Min(_maxTicks, Math.Max(_minTicks, _windowTicks * 2));
        else if ((_windowTicks /= 2) < _minTicks)
            _windowTicks = 0;
    }
}

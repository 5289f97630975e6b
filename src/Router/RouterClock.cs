namespace KvnDb.Router;

/// <summary>
/// The one clock of the cluster (DESIGN.md section 3): every sequenced write and every read forwarded to
/// a node carries its time, so replicas judge expiry alike whatever their own clocks say. Unix
/// milliseconds from the options' <see cref="TimeProvider"/>, never going backwards while the router
/// runs (a wall clock stepped back holds the last time given out until it catches up).
/// </summary>
internal sealed class RouterClock(TimeProvider time)
{
    private long _last;

    public TimeProvider Provider => time;

    public long Now()
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var last = Volatile.Read(ref _last);
        while (now > last)
        {
            var seen = Interlocked.CompareExchange(ref _last, now, last);
            if (seen == last)
                return now;
            last = seen;
        }
        return last;
    }
}

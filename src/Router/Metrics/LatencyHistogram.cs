using System.Diagnostics;

namespace KvnDb.Router;

/// <summary>
/// Request latencies pre-aggregated into fixed buckets with interlocked counters: recording costs a
/// bucket search and two atomic adds, allocates nothing and takes no lock. The status page reads the
/// buckets once a second and turns the difference into that second's percentiles.
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>Upper bounds in seconds, 25 µs to 1 s (the Prometheus histogram uses the same).</summary>
    public static readonly double[] BoundsSeconds = [0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    private static readonly long[] BoundsTicks = Array.ConvertAll(BoundsSeconds, s => (long)(s * Stopwatch.Frequency));
    private readonly long[] _buckets = new long[BoundsSeconds.Length + 1];
    private long _count;

    /// <summary>Buckets: one per bound, then one above the last.</summary>
    public static int BucketCount => BoundsSeconds.Length + 1;

    public long Count => Volatile.Read(ref _count);

    /// <summary>Records <paramref name="elapsedTicks"/> (<see cref="Stopwatch"/> ticks).</summary>
    public void Record(long elapsedTicks)
    {
        var bucket = 0;
        while (bucket < BoundsTicks.Length && elapsedTicks > BoundsTicks[bucket])
            bucket++;
        Interlocked.Increment(ref _buckets[bucket]);
        Interlocked.Increment(ref _count);
    }

    /// <summary>Adds each bucket's count to <paramref name="into"/> (length <see cref="BucketCount"/>).</summary>
    public void AddTo(Span<long> into)
    {
        for (var i = 0; i < _buckets.Length; i++)
            into[i] += Volatile.Read(ref _buckets[i]);
    }

    /// <summary>
    /// The upper bound (seconds) of the bucket holding quantile <paramref name="q"/> of the counts in
    /// <paramref name="buckets"/>, or null when they are empty; past the last bound, the last bound.
    /// </summary>
    public static double? Quantile(ReadOnlySpan<long> buckets, double q)
    {
        long total = 0;
        foreach (var count in buckets)
            total += count;
        if (total == 0)
            return null;
        var rank = (long)Math.Ceiling(q * total);
        long seen = 0;
        for (var i = 0; i < buckets.Length; i++)
        {
            seen += buckets[i];
            if (seen >= rank)
                return BoundsSeconds[Math.Min(i, BoundsSeconds.Length - 1)];
        }
        return BoundsSeconds[^1];
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace KvnDb.Router;

/// <summary>
/// Request latencies pre-aggregated into fixed cumulative-ready buckets with interlocked counters:
/// recording costs a bucket search and three atomic adds, allocates nothing and takes no lock, and a
/// Prometheus scrape reads the buckets as they are (no per-measurement listener callback).
/// </summary>
internal sealed class LatencyHistogram
{
    /// <summary>Upper bounds in seconds (Prometheus' unit), 25 µs to 1 s.</summary>
    public static readonly double[] BoundsSeconds = [0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

    private static readonly long[] BoundsTicks = Array.ConvertAll(BoundsSeconds, s => (long)(s * Stopwatch.Frequency));
    private readonly long[] _buckets = new long[BoundsSeconds.Length + 1];
    private long _sumTicks;
    private long _count;

    public long Count => Volatile.Read(ref _count);

    /// <summary>Records the time since <paramref name="startedAt"/>, a <see cref="Stopwatch"/> timestamp.</summary>
    public void RecordSince(long startedAt)
    {
        var elapsed = Stopwatch.GetTimestamp() - startedAt;
        var bucket = 0;
        while (bucket < BoundsTicks.Length && elapsed > BoundsTicks[bucket])
            bucket++;
        Interlocked.Increment(ref _buckets[bucket]);
        Interlocked.Add(ref _sumTicks, elapsed);
        Interlocked.Increment(ref _count);
    }

    /// <summary>Appends the series in the Prometheus text format (<c>_bucket</c>, <c>_sum</c>, <c>_count</c>).</summary>
    public void Render(StringBuilder text, string name, string labels)
    {
        var prefix = labels.Length == 0 ? "" : labels + ",";
        long cumulative = 0;
        for (var i = 0; i < BoundsSeconds.Length; i++)
        {
            cumulative += Volatile.Read(ref _buckets[i]);
            text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{prefix}le=\"{BoundsSeconds[i]}\"}} {cumulative}\n");
        }
        cumulative += Volatile.Read(ref _buckets[^1]);
        text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{prefix}le=\"+Inf\"}} {cumulative}\n");
        var braces = labels.Length == 0 ? "" : "{" + labels + "}";
        text.Append(CultureInfo.InvariantCulture, $"{name}_sum{braces} {(double)Volatile.Read(ref _sumTicks) / Stopwatch.Frequency}\n");
        text.Append(CultureInfo.InvariantCulture, $"{name}_count{braces} {cumulative}\n");
    }
}

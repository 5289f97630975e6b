using System.Diagnostics;
using KvnDb.Router;

namespace KvnDb.UnitTests.Router;

public sealed class LatencyHistogramTests
{
    private static long Ticks(double seconds) => (long)(seconds * Stopwatch.Frequency);

    [Fact]
    public void Records_land_in_the_bucket_of_their_upper_bound()
    {
        var histogram = new LatencyHistogram();
        histogram.Record(Ticks(0.00001)); // below the first bound
        histogram.Record(Ticks(0.000025)); // exactly on it: the same bucket
        histogram.Record(Ticks(0.0003)); // 250 µs < x <= 500 µs
        histogram.Record(Ticks(5)); // past the last bound
        var buckets = new long[LatencyHistogram.BucketCount];
        histogram.AddTo(buckets);
        Assert.Equal(2, buckets[0]);
        Assert.Equal(1, buckets[Array.IndexOf(LatencyHistogram.BoundsSeconds, 0.0005)]);
        Assert.Equal(1, buckets[^1]);
        Assert.Equal(4, histogram.Count);
    }

    [Fact]
    public void The_quantile_is_the_upper_bound_of_the_bucket_holding_its_rank()
    {
        var buckets = new long[LatencyHistogram.BucketCount];
        Assert.Null(LatencyHistogram.Quantile(buckets, 0.99));
        buckets[0] = 98; // 25 µs
        buckets[5] = 1; // 1 ms
        buckets[9] = 1; // 25 ms
        Assert.Equal(0.000025, LatencyHistogram.Quantile(buckets, 0.5));
        Assert.Equal(0.001, LatencyHistogram.Quantile(buckets, 0.99));
        Assert.Equal(0.025, LatencyHistogram.Quantile(buckets, 1.0));
        buckets[^1] = 100; // past the last bound: reported as the last bound
        Assert.Equal(1.0, LatencyHistogram.Quantile(buckets, 0.99));
    }
}

using System.Diagnostics;
using HdrHistogram;

namespace KvnDb.Bench;

/// <summary>The outcome of one test: throughput and latency in milliseconds, as redis-benchmark reports them.</summary>
internal sealed record TestResult(string Test, long Requests, long Errors, TimeSpan Elapsed, double AverageMs, double MinMs,
    double P50Ms, double P95Ms, double P99Ms, double MaxMs)
{
    public double RequestsPerSecond => Requests / Elapsed.TotalSeconds;

    public static TestResult From(string test, long requests, long errors, TimeSpan elapsed, LongHistogram histogram, long minTicks, long maxTicks) =>
        new(test, requests, errors, elapsed,
            ToMs(histogram.GetMean()),
            ToMs(minTicks),
            ToMs(histogram.GetValueAtPercentile(50)),
            ToMs(histogram.GetValueAtPercentile(95)),
            ToMs(histogram.GetValueAtPercentile(99)),
            ToMs(maxTicks));

    private static double ToMs(double ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}

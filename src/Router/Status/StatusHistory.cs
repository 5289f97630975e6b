using System.Diagnostics;

namespace KvnDb.Router;

/// <summary>
/// The last minutes of throughput and latency for the status page: once a second, the requests answered
/// since the previous sample (reads and writes, per second) and the p99 of their latencies, from the
/// difference of the pre-aggregated <see cref="LatencyHistogram"/>'s buckets. A fixed ring, filled by a
/// timer; nothing is recorded per request beyond the histogram.
/// </summary>
internal sealed class StatusHistory : IDisposable
{
    /// <summary>Samples kept: five minutes at one a second.</summary>
    public const int Capacity = 300;

    private readonly Cluster _cluster;
    private readonly LatencyHistogram _latency;
    private readonly Lock _lock = new();
    private readonly Sample[] _samples = new Sample[Capacity];
    private readonly long[] _previousBuckets = new long[LatencyHistogram.BucketCount];
    private readonly long[] _buckets = new long[LatencyHistogram.BucketCount];
    private readonly Timer _timer;
    private int _next;
    private int _count;
    private long _previousRequests;
    private long _previousAt;

    public StatusHistory(Cluster cluster, LatencyHistogram latency, TimeSpan interval)
    {
        _cluster = cluster;
        _latency = latency;
        _previousRequests = Requests();
        _previousAt = Stopwatch.GetTimestamp();
        latency.AddTo(_previousBuckets);
        _timer = new Timer(static s => ((StatusHistory)s!).TakeSample(), this, interval, interval);
    }

    /// <summary>One second of the cluster: when (Unix ms), requests per second, p99 in milliseconds (null without requests).</summary>
    public readonly record struct Sample(long UnixMs, double OpsPerSecond, double? P99Ms);

    /// <summary>Samples taken so far, oldest first.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
                return _count;
        }
    }

    public Sample[] Snapshot()
    {
        lock (_lock)
        {
            var result = new Sample[_count];
            for (var i = 0; i < _count; i++)
                result[i] = _samples[(_next - _count + i + Capacity) % Capacity];
            return result;
        }
    }

    /// <summary>Takes a sample now (the timer does, once a second).</summary>
    public void TakeSample()
    {
        lock (_lock)
        {
            var now = Stopwatch.GetTimestamp();
            var requests = Requests();
            var seconds = Math.Max(1e-3, Stopwatch.GetElapsedTime(_previousAt, now).TotalSeconds);
            Array.Clear(_buckets);
            _latency.AddTo(_buckets);
            for (var i = 0; i < _buckets.Length; i++)
            {
                var total = _buckets[i];
                _buckets[i] -= _previousBuckets[i];
                _previousBuckets[i] = total;
            }
            var p99 = LatencyHistogram.Quantile(_buckets, 0.99) * 1000;
            _samples[_next] = new Sample(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), (requests - _previousRequests) / seconds, p99);
            _next = (_next + 1) % Capacity;
            _count = Math.Min(_count + 1, Capacity);
            _previousRequests = requests;
            _previousAt = now;
        }
    }

    private long Requests() => _cluster.Stats.Reads + _cluster.Stats.Writes;

    public void Dispose() => _timer.Dispose();
}

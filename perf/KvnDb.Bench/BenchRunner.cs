using System.Diagnostics;
using HdrHistogram;

namespace KvnDb.Bench;

/// <summary>Runs each test over every connection at once, closed loop: a connection sends its next batch when the last one is answered.</summary>
internal sealed class BenchRunner(BenchOptions options, IReadOnlyList<LoadConnection> connections)
{
    /// <summary>Histograms count Stopwatch ticks up to a minute, 3 significant digits.</summary>
    private static readonly long HighestTicks = Stopwatch.Frequency * 60;

    private const int WarmupBatches = 2;

    public async Task<TestResult> RunAsync(TestKind test, bool showProgress, CancellationToken cancellationToken)
    {
        var name = WireProtocol.TestName(test);
        var work = new WorkCounter(options.Requests);
        var histograms = connections.Select(_ => new LongHistogram(HighestTicks, 3)).ToArray();
        var errors = new long[connections.Count];
        // Untimed warm-up (JIT, first-use paths on both sides): two batches per connection, not counted in -n.
        await Task.WhenAll(connections.Select(async connection =>
        {
            for (var i = 0; i < WarmupBatches; i++)
                await connection.RunBatchAsync(test, options.Pipeline, null, cancellationToken).ConfigureAwait(false);
            connection.ResetExtremes();
        })).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        await using (new ProgressLine(name, work, showProgress))
        {
            await Task.WhenAll(connections.Select((connection, i) =>
                Task.Run(() => DriveAsync(connection, test, work, histograms[i], errors, i, cancellationToken), cancellationToken)))
                .ConfigureAwait(false);
        }
        clock.Stop();
        var total = histograms[0];
        for (var i = 1; i < histograms.Length; i++)
            total.Add(histograms[i]);
        return TestResult.From(name, options.Requests, errors.Sum(), clock.Elapsed, total,
            connections.Min(c => c.MinTicks), connections.Max(c => c.MaxTicks));
    }

    private async Task DriveAsync(LoadConnection connection, TestKind test, WorkCounter work, LongHistogram histogram,
        long[] errors, int index, CancellationToken cancellationToken)
    {
        int batch;
        while ((batch = work.Claim(options.Pipeline)) > 0)
        {
            errors[index] += await connection.RunBatchAsync(test, batch, histogram, cancellationToken).ConfigureAwait(false);
            work.Complete(batch);
        }
    }
}

namespace KvnDb.Bench;

/// <summary>redis-benchmark's live line on stderr: current and overall requests per second, redrawn in place.</summary>
internal sealed class ProgressLine : IAsyncDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(250);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    public ProgressLine(string test, WorkCounter work, bool enabled) =>
        _loop = enabled ? RunAsync(test, work, _stop.Token) : Task.CompletedTask;

    private static async Task RunAsync(string test, WorkCounter work, CancellationToken cancellationToken)
    {
        var started = DateTime.UtcNow;
        var lastTime = started;
        var lastCount = 0L;
        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = DateTime.UtcNow;
                var done = work.Completed;
                var current = (done - lastCount) / (now - lastTime).TotalSeconds;
                var overall = done / (now - started).TotalSeconds;
                await Console.Error.WriteAsync($"\r{test}: rps={current:F1} (overall: {overall:F1}) {done}/{work.Total} ({100.0 * done / work.Total:F0}%)   ");
                lastTime = now;
                lastCount = done;
            }
        }
        catch (OperationCanceledException)
        {
        }
        await Console.Error.WriteAsync("\r" + new string(' ', 100) + "\r");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        _stop.Dispose();
    }
}

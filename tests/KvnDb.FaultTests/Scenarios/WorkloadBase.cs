using System.Collections.Concurrent;
using KvnDb.Client;
using KvnDb.FaultTests.Linearizability;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>
/// What every scenario workload shares (<see cref="Workload"/> for one router, <see cref="GroupWorkload"/> for a router
/// group): clients with their own connections, workers pacing one operation at a time and recording every attempt in the
/// history, failures counted by kind, the per-attempt deadline, and the stop (the in-flight attempts run to their
/// outcome) and disposal.
/// </summary>
internal abstract class WorkloadBase : IAsyncDisposable
{
    /// <summary>Time between one worker's operations.</summary>
    protected static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(10);

    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);
    private bool _disposed;

    protected WorkloadBase(History history, TimeSpan requestTimeout)
    {
        History = history;
        // The client's own timeout, plus a reconnect (connect + hello), plus slack: past this the attempt is abandoned
        // and recorded as indeterminate.
        OperationTimeout = requestTimeout * 2 + TimeSpan.FromSeconds(3);
    }

    protected History History { get; }

    /// <summary>How long one attempt may take before it is abandoned (recorded as indeterminate).</summary>
    protected TimeSpan OperationTimeout { get; }

    /// <summary>Cancelled once the workload stops: workers end at their next tick.</summary>
    protected CancellationToken Stopping => _stop.Token;

    protected List<Task> Workers { get; } = [];

    protected List<KvnDbClient> Clients { get; } = [];

    /// <summary>Write failures by kind, for the report.</summary>
    public IReadOnlyDictionary<string, int> Failures => _failures;

    protected void CountFailure(string kind) => _failures.AddOrUpdate(kind, 1, (_, n) => n + 1);

    /// <summary>The worker's next turn; false once the workload stops.</summary>
    protected async ValueTask<bool> TickAsync(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Polls <paramref name="reached"/> until it holds; false after <paramref name="timeout"/>.</summary>
    protected static async Task<bool> WaitForAsync(Func<bool> reached, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (!reached())
        {
            if (DateTime.UtcNow > deadline)
                return false;
            await timer.WaitForNextTickAsync().ConfigureAwait(false);
        }
        return true;
    }

    protected static bool IsRequestFailure(Exception ex) =>
        ex is KvnDbException or TimeoutException or OperationCanceledException or ObjectDisposedException or IOException;

    /// <summary>Only a connection that was never made certainly did not carry the write; everything else may have been applied.</summary>
    protected static OpOutcome Classify(Exception ex) =>
        ex is KvnDbConnectionException && ex.Message.StartsWith("cannot connect", StringComparison.Ordinal)
            ? OpOutcome.Failed
            : OpOutcome.Indeterminate;

    /// <summary>Stops issuing operations and waits for the attempts in flight (each bounded by its own timeout).</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(Workers).WaitAsync(OperationTimeout * 2).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A worker stuck past its own timeouts: its history entry is missing, the run goes on.
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        await StopAsync().ConfigureAwait(false);
        foreach (var client in Clients)
        {
            try
            {
                await client.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
            }
        }
        _stop.Dispose();
    }
}

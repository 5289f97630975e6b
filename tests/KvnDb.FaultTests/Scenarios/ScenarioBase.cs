using System.Diagnostics;
using KvnDb.Client;
using KvnDb.FaultTests.Linearizability;
using Xunit.Abstractions;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>
/// What every scenario shares (<see cref="ScenarioRun"/> for one router, <see cref="GroupScenario"/> for a router group):
/// its name, history and workload, a log with the seconds since the start, the read-back of every key the history
/// wrote (recorded as reads, so the checker sees them), and the teardown (workload stopped, then the cluster).
/// </summary>
internal abstract class ScenarioBase<TWorkload>(string name, ITestOutputHelper output, IAsyncDisposable cluster) : IAsyncDisposable
    where TWorkload : WorkloadBase
{
    /// <summary>The history's process number of the read-back.</summary>
    protected const int ReadBackProcess = 99;

    private const int ReadBackChunk = 200;
    private readonly long _started = History.Now;
    private bool _workloadStopped;

    public string Name { get; } = name;

    public History History { get; } = new();

    public TWorkload Workload { get; protected set; } = null!;

    /// <summary>When the scenario began (History time).</summary>
    protected long Started => _started;

    protected ITestOutputHelper Output { get; } = output;

    public void Log(string message) =>
        Output.WriteLine($"[{Stopwatch.GetElapsedTime(_started).TotalSeconds,6:F1} s] {message}");

    /// <summary>Stops the workload (its attempts in flight run to their outcome); the teardown then only disposes it.</summary>
    protected async Task StopWorkloadAsync()
    {
        await Workload.StopAsync();
        _workloadStopped = true;
    }

    /// <summary>
    /// Reads every key a writer tried (and the hot keys), <paramref name="attempts"/> tries per chunk, recording each read in
    /// the history; a chunk that cannot be read is returned unverified.
    /// </summary>
    protected async Task<List<FinalRead>> ReadBackAsync(KvnDbClient client, IEnumerable<string> hotKeys, int attempts)
    {
        var keys = History.Snapshot().Where(o => o.IsWrite && o.Outcome != OpOutcome.Failed).Select(o => o.Key)
            .Concat(hotKeys)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        var finals = new List<FinalRead>(keys.Count);
        foreach (var chunk in keys.Chunk(ReadBackChunk))
        {
            string?[]? values = null;
            long invoke = 0;
            for (var attempt = 0; attempt < attempts && values is null; attempt++)
            {
                invoke = History.Now;
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    values = await client.MultiGetStringsAsync(chunk, timeout.Token).WaitAsync(TimeSpan.FromSeconds(11));
                }
                catch (Exception ex) when (ex is KvnDbException or TimeoutException or OperationCanceledException)
                {
                    Log($"read-back of {chunk.Length} keys failed (attempt {attempt + 1} of {attempts}): {ex.Message}");
                }
            }
            var complete = History.Now;
            for (var i = 0; i < chunk.Length; i++)
            {
                if (values is null)
                {
                    finals.Add(new FinalRead(chunk[i], null, Verified: false));
                    continue;
                }
                finals.Add(new FinalRead(chunk[i], values[i]));
                History.Add(new Operation(ReadBackProcess, chunk[i], OpKind.Get, values[i], invoke, complete, values[i] is null ? OpOutcome.NotFound : OpOutcome.Ok));
            }
        }
        Log($"read back {finals.Count} keys");
        return finals;
    }

    public async ValueTask DisposeAsync()
    {
        if (Workload is not null)
        {
            if (!_workloadStopped)
                await Workload.StopAsync();
            await Workload.DisposeAsync();
        }
        await cluster.DisposeAsync();
    }
}

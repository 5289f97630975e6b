using System.Collections.Concurrent;
using KvnDb.Client;
using KvnDb.Protocol;
using KvnDb.FaultTests.Linearizability;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>A write its client saw acknowledged, and by which router (null: the client changed router while it was in flight).</summary>
internal sealed record GroupAcknowledgement(Operation Operation, string? Router, WriteConcern Concern);

/// <summary>
/// The workload of the router group scenarios: writers with write concern <c>all</c> (a hot key or a fresh key, by
/// turns), one writer with concern <c>one</c> (fresh keys <c>one-*</c>, where a failover may lose a write, so they are
/// checked for fencing only), and readers of the hot keys; one connection each, given every router in another order
/// (they follow redirects). Every attempt goes into the history; every acknowledged write also records the router
/// that acknowledged it.
/// </summary>
internal sealed class GroupWorkload : IAsyncDisposable
{
    public const int HotKeys = 16;
    public const string OnePrefix = "one-";
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(10);

    private readonly History _history;
    private readonly TimeSpan _operationTimeout;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _workers = [];
    private readonly List<KvnDbClient> _clients = [];
    private readonly ConcurrentQueue<GroupAcknowledgement> _acknowledged = new();
    private readonly ConcurrentDictionary<string, int> _failures = new(StringComparer.Ordinal);

    private GroupWorkload(History history, TimeSpan requestTimeout)
    {
        _history = history;
        _operationTimeout = requestTimeout * 2 + TimeSpan.FromSeconds(3);
    }

    public IReadOnlyCollection<GroupAcknowledgement> Acknowledged => _acknowledged;

    public int AcknowledgedCount => _acknowledged.Count;

    /// <summary>Write failures by exception type and message start, for the report.</summary>
    public IReadOnlyDictionary<string, int> Failures => _failures;

    public static string HotKey(int index) => $"hot{index}";

    public static async Task<GroupWorkload> StartAsync(RouterGroupCluster cluster, History history, TimeSpan requestTimeout, TimeSpan? routerTimeout = null)
    {
        var workload = new GroupWorkload(history, requestTimeout);
        using var connecting = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        (WriteConcern? Concern, bool OnlyFresh)[] roles = [(WriteConcern.All, false), (WriteConcern.All, false), (WriteConcern.One, true), (null, false), (null, false)];
        for (var i = 0; i < roles.Length; i++)
        {
            var client = await cluster.ConnectAsync(cluster.ClientHost, requestTimeout, first: i, roles[i].Concern ?? WriteConcern.All, routerTimeout, connecting.Token).ConfigureAwait(false);
            workload._clients.Add(client);
            var (process, role) = (i + 1, roles[i]);
            workload._workers.Add(Task.Run(() => role.Concern is { } concern
                ? workload.WriteLoopAsync(process, client, concern, role.OnlyFresh)
                : workload.ReadLoopAsync(process, client)));
        }
        return workload;
    }

    /// <summary>Waits until <paramref name="count"/> writes in all were acknowledged (of the concern, when given); false on timeout.</summary>
    public async Task<bool> WaitForAcknowledgedAsync(Func<GroupAcknowledgement, bool> which, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
        while (_acknowledged.Count(which) < count)
        {
            if (DateTime.UtcNow > deadline)
                return false;
            await timer.WaitForNextTickAsync().ConfigureAwait(false);
        }
        return true;
    }

    private async Task WriteLoopAsync(int process, KvnDbClient client, WriteConcern concern, bool onlyFresh)
    {
        var random = new Random(process);
        using var timer = new PeriodicTimer(Pace);
        for (var attempt = 0; await TickAsync(timer).ConfigureAwait(false); attempt++)
        {
            var fresh = onlyFresh || attempt % 2 == 0;
            var key = onlyFresh ? $"{OnePrefix}{process}-{attempt}" : fresh ? $"fresh-{process}-{attempt}" : HotKey(random.Next(HotKeys));
            var value = $"v{process}-{attempt}";
            var router = client.Router;
            var invoke = History.Now;
            using var timeout = new CancellationTokenSource(_operationTimeout);
            OpOutcome outcome;
            try
            {
                await client.SetAsync(key, value, concern, timeout.Token).AsTask().WaitAsync(_operationTimeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                outcome = OpOutcome.Ok;
            }
            catch (Exception ex) when (IsRequestFailure(ex))
            {
                // Only a connection that was never made certainly did not carry the write.
                outcome = ex is KvnDbConnectionException && ex.Message.StartsWith("cannot connect", StringComparison.Ordinal) ? OpOutcome.Failed : OpOutcome.Indeterminate;
                _failures.AddOrUpdate($"{ex.GetType().Name.Replace("KvnDb", "", StringComparison.Ordinal).Replace("Exception", "", StringComparison.Ordinal)}", 1, (_, n) => n + 1);
            }
            var operation = new Operation(process, key, OpKind.Set, value, invoke, History.Now, outcome);
            _history.Add(operation);
            if (outcome == OpOutcome.Ok)
                _acknowledged.Enqueue(new GroupAcknowledgement(operation, client.Router == router ? router : null, concern));
        }
    }

    private async Task ReadLoopAsync(int process, KvnDbClient client)
    {
        var random = new Random(process);
        using var timer = new PeriodicTimer(Pace);
        while (await TickAsync(timer).ConfigureAwait(false))
        {
            var key = HotKey(random.Next(HotKeys));
            var invoke = History.Now;
            using var timeout = new CancellationTokenSource(_operationTimeout);
            try
            {
                var value = await client.GetStringAsync(key, timeout.Token).AsTask().WaitAsync(_operationTimeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                _history.Add(new Operation(process, key, OpKind.Get, value, invoke, History.Now, value is null ? OpOutcome.NotFound : OpOutcome.Ok));
            }
            catch (Exception ex) when (IsRequestFailure(ex))
            {
                _history.Add(new Operation(process, key, OpKind.Get, null, invoke, History.Now, OpOutcome.Indeterminate));
            }
        }
    }

    private async ValueTask<bool> TickAsync(PeriodicTimer timer)
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

    private static bool IsRequestFailure(Exception ex) =>
        ex is KvnDbException or TimeoutException or OperationCanceledException or ObjectDisposedException or IOException;

    public async Task StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await Task.WhenAll(_workers).WaitAsync(_operationTimeout * 2).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // A worker stuck past its own timeouts: its history entry is missing, the run goes on.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        foreach (var client in _clients)
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

using System.Collections.Concurrent;
using KvnDb.Client;
using KvnDb.Protocol;
using KvnDb.FaultTests.Linearizability;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>A write its client saw acknowledged, and by which router (null: the client changed router while it was in flight).</summary>
internal sealed record GroupAcknowledgement(Operation Operation, string? Router, WriteConcern Concern);

/// <summary>A read its client saw answered (a value or not found), and by which router (null: the client changed router while it was in flight).</summary>
internal sealed record GroupRead(Operation Operation, string? Router);

/// <summary>
/// The workload of the router group scenarios: writers with write concern <c>all</c> (a hot key or a fresh key, by
/// turns), one writer with concern <c>one</c> (fresh keys <c>one-*</c>, where a failover may lose a write, so they are
/// checked for fencing only), and readers of the hot keys; one connection each, given every router in another order
/// (they follow redirects). Every attempt goes into the history; every acknowledged write and every answered read also
/// records the router that answered it.
/// </summary>
internal sealed class GroupWorkload : WorkloadBase
{
    public const int HotKeys = 16;
    public const string OnePrefix = "one-";

    private readonly ConcurrentQueue<GroupAcknowledgement> _acknowledged = new();
    private readonly ConcurrentQueue<GroupRead> _answered = new();

    private GroupWorkload(History history, TimeSpan requestTimeout)
        : base(history, requestTimeout)
    {
    }

    public IReadOnlyCollection<GroupAcknowledgement> Acknowledged => _acknowledged;

    public int AcknowledgedCount => _acknowledged.Count;

    public IReadOnlyCollection<GroupRead> Answered => _answered;

    public static string HotKey(int index) => $"hot{index}";

    public static async Task<GroupWorkload> StartAsync(RouterGroupCluster cluster, History history, TimeSpan requestTimeout, TimeSpan? routerTimeout = null)
    {
        var workload = new GroupWorkload(history, requestTimeout);
        using var connecting = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        (WriteConcern? Concern, bool OnlyFresh)[] roles = [(WriteConcern.All, false), (WriteConcern.All, false), (WriteConcern.One, true), (null, false), (null, false)];
        for (var i = 0; i < roles.Length; i++)
        {
            var client = await cluster.ConnectAsync(cluster.ClientHost, requestTimeout, first: i, roles[i].Concern ?? WriteConcern.All, routerTimeout, connecting.Token).ConfigureAwait(false);
            workload.Clients.Add(client);
            var (process, role) = (i + 1, roles[i]);
            workload.Workers.Add(Task.Run(() => role.Concern is { } concern
                ? workload.WriteLoopAsync(process, client, concern, role.OnlyFresh)
                : workload.ReadLoopAsync(process, client)));
        }
        return workload;
    }

    /// <summary>Waits until <paramref name="count"/> writes in all were acknowledged (of the concern, when given); false on timeout.</summary>
    public Task<bool> WaitForAcknowledgedAsync(Func<GroupAcknowledgement, bool> which, int count, TimeSpan timeout) =>
        WaitForAsync(() => _acknowledged.Count(which) >= count, timeout);

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
            using var timeout = new CancellationTokenSource(OperationTimeout);
            OpOutcome outcome;
            try
            {
                await client.SetAsync(key, value, concern, timeout.Token).AsTask().WaitAsync(OperationTimeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                outcome = OpOutcome.Ok;
            }
            catch (Exception ex) when (IsRequestFailure(ex))
            {
                outcome = Classify(ex);
                CountFailure(ex.GetType().Name.Replace("KvnDb", "", StringComparison.Ordinal).Replace("Exception", "", StringComparison.Ordinal));
            }
            var operation = new Operation(process, key, OpKind.Set, value, invoke, History.Now, outcome);
            History.Add(operation);
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
            var router = client.Router;
            var invoke = History.Now;
            using var timeout = new CancellationTokenSource(OperationTimeout);
            try
            {
                var value = await client.GetStringAsync(key, timeout.Token).AsTask().WaitAsync(OperationTimeout + TimeSpan.FromSeconds(1)).ConfigureAwait(false);
                var operation = new Operation(process, key, OpKind.Get, value, invoke, History.Now, value is null ? OpOutcome.NotFound : OpOutcome.Ok);
                History.Add(operation);
                _answered.Enqueue(new GroupRead(operation, client.Router == router ? router : null));
            }
            catch (Exception ex) when (IsRequestFailure(ex))
            {
                History.Add(new Operation(process, key, OpKind.Get, null, invoke, History.Now, OpOutcome.Indeterminate));
            }
        }
    }
}

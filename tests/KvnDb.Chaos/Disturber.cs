using System.Diagnostics;
using KvnDb.Testing;

namespace KvnDb.Chaos;

/// <summary>
/// Deals the next disturbance from the seeded deck, applies it, heals it, checks the ledger after every router
/// restart or freeze as soon as the router serves again, waits until every node serves again and prints one line.
/// Disturbances run one at a time, so a current replica always survives.
/// </summary>
internal sealed class Disturber(ChaosCluster cluster, WriteLoad load, LedgerCheck check, ChaosOptions options, TextWriter log, Stopwatch runClock)
{
    private readonly Random _random = new(options.Seed);
    private readonly DisturbanceDeck _deck = new(options.Kinds, new Random(options.Seed ^ 0x5eed));

    public Dictionary<DisturbanceKind, int> Counts { get; } = DisturbanceKinds.All.ToDictionary(k => k, _ => 0);

    public int RouterRestarts { get; private set; }

    /// <summary>In a router group: from each SIGKILL of the leader to the first acknowledgement of a write sent after it.</summary>
    public List<TimeSpan> Failovers { get; } = [];

    /// <summary>Where the time of each failover went (<see cref="Failovers"/>' stages).</summary>
    public List<FailoverTimeline> Timelines { get; } = [];

    public long FullSyncs { get; private set; }

    public long ReplayedWrites { get; private set; }

    public int RoundsCompleted => _deck.AtRoundEnd ? _deck.RoundsDealt : _deck.RoundsDealt - 1;

    public async Task DisturbAsync()
    {
        var kind = _deck.Deal();
        // Every draw up front, whatever the kind: the seed fixes the schedule however the run's timing goes.
        var index = _random.Next(cluster.Nodes.Count);
        var duration = TimeSpan.FromSeconds(Math.Round(1 + (_random.NextDouble() * (options.MaxFault.TotalSeconds - 1)), 1));
        var hard = _random.Next(2) == 0;
        var acrossRestart = _random.Next(3) == 0;
        var missed = _random.Next(options.LateWrites / 2, (options.LateWrites * 2) + 1);

        var node = cluster.Nodes[index];
        var relay = cluster.Relays.Count > 0 ? cluster.Relays[index] : null;
        var at = runClock.Elapsed;
        load.TakeStall();
        var what = kind switch
        {
            DisturbanceKind.Kill => await KillAsync(node, reset: false),
            DisturbanceKind.Reset => await KillAsync(node, reset: true),
            DisturbanceKind.RouterKill => await RestartRouterAsync("after router restart"),
            DisturbanceKind.Freeze => await FreezeAsync(node, duration),
            DisturbanceKind.RouterFreeze => await FreezeRouterAsync(duration),
            DisturbanceKind.Cut => await CutAsync([relay ?? throw new InvalidOperationException("cut needs the relays of a single router")], duration),
            DisturbanceKind.CutAll => await CutAsync(cluster.Relays, duration),
            DisturbanceKind.Late => await LateReturnAsync(node, hard, acrossRestart, missed),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
        var recovered = await cluster.WaitForServingAsync(options.RecoveryTimeout)
            ?? throw new ChaosFailureException($"not every node serves {options.RecoveryTimeout.TotalSeconds:0} s after {DisturbanceKinds.Name(kind)} {what}: {await cluster.DescribeAsync()}");
        Counts[kind]++;
        var stall = load.TakeStall();
        await log.WriteLineAsync($"chaos: {at.TotalSeconds,6:0.0}s {DisturbanceKinds.Name(kind),-13} {what} | all serving {recovered.TotalSeconds:0.0} s after the heal"
            + $" | write stall {stall.Length.TotalSeconds:0.0} s from {stall.Start.TotalSeconds:0.0}s | acked {load.Acknowledged.Value} failed {load.Failed} | took {(runClock.Elapsed - at).TotalSeconds:0.0} s");
    }

    /// <summary>The router's counters die with it: read them before every kill and once at the end.</summary>
    public async Task CollectSyncCountersAsync()
    {
        var info = await cluster.TryInfoAsync();
        if (info is null)
            return;
        FullSyncs += info.FullSyncs;
        ReplayedWrites += info.ReplayedWrites;
    }

    private static async Task<string> KillAsync(ManagedProcess node, bool reset)
    {
        await node.KillAsync();
        // The one-shot reset: requested once, applied at this start; later restarts keep the node's data.
        if (reset)
            await node.RunOnceAsync(["reset", "--data", node.Argument("--data") ?? throw new InvalidOperationException($"{node.Name} has no --data")]);
        node.Start();
        return node.Name;
    }

    private async Task<string> RestartRouterAsync(string when)
    {
        var router = await cluster.LeaderAsync(options.RecoveryTimeout);
        await CollectSyncCountersAsync();
        var killedAt = runClock.Elapsed;
        var timeline = cluster.IsGroup ? FailoverTimeline.Watch(cluster, router, runClock, killedAt) : null;
        await router.KillAsync();
        // Marked once the process is gone: a write begun before may still be the old leader's last acknowledgement.
        var resumed = load.FirstAcknowledgedFromNowAsync();
        var failover = "";
        if (cluster.IsGroup)
        {
            // The group fails over on its own; the killed router comes back afterwards, as a standby.
            TimeSpan at;
            try
            {
                at = await resumed.WaitAsync(options.RecoveryTimeout);
            }
            catch (TimeoutException)
            {
                throw new ChaosFailureException($"writes did not resume within {options.RecoveryTimeout.TotalSeconds:0} s of the leader's ({router.Name}) SIGKILL ({timeline}): {await cluster.DescribeAsync()}");
            }
            timeline!.Stop(at);
            Failovers.Add(at - killedAt);
            Timelines.Add(timeline);
            failover = $", writes resumed {(at - killedAt).TotalSeconds:0.00} s after the kill (new leader {(await cluster.LeaderAsync(options.RecoveryTimeout)).Name}; seconds from the kill: {timeline})";
        }
        router.Start();
        RouterRestarts++;
        var serving = await WaitForRouterAsync(when);
        return $"{(cluster.IsGroup ? $"leader {router.Name}" : "router")}{failover}, serving again after {serving.TotalSeconds:0.0} s";
    }

    /// <summary>As soon as the router serves again (one node adopted), every key the ledger knows is read back.</summary>
    private async Task<TimeSpan> WaitForRouterAsync(string when)
    {
        var serving = await cluster.WaitForServingAsync(options.RecoveryTimeout, count: 1)
            ?? throw new ChaosFailureException($"the router does not serve {options.RecoveryTimeout.TotalSeconds:0} s {when}: {await cluster.DescribeAsync()}");
        await check.RunAsync(cluster.Client, when);
        return serving;
    }

    private static async Task<string> FreezeAsync(ManagedProcess node, TimeSpan duration)
    {
        await node.FreezeAsync();
        try
        {
            await Task.Delay(duration); // the scenario: frozen this long
        }
        finally
        {
            await node.ThawAsync();
        }
        return $"{node.Name} for {duration.TotalSeconds:0.0} s";
    }

    private async Task<string> FreezeRouterAsync(TimeSpan duration)
    {
        var router = await cluster.LeaderAsync(options.RecoveryTimeout);
        await FreezeAsync(router, duration);
        var serving = await WaitForRouterAsync("after router freeze");
        return $"{(cluster.IsGroup ? $"leader {router.Name}" : "router")} for {duration.TotalSeconds:0.0} s, serving again after {serving.TotalSeconds:0.0} s";
    }

    private static async Task<string> CutAsync(List<LinkRelay> relays, TimeSpan duration)
    {
        foreach (var relay in relays)
            relay.Cut();
        try
        {
            await Task.Delay(duration); // the scenario: cut this long
        }
        finally
        {
            foreach (var relay in relays)
                relay.Heal();
        }
        return $"{(relays.Count == 1 ? relays[0].Name : "all nodes")} for {duration.TotalSeconds:0.0} s";
    }

    /// <summary>The node misses <paramref name="missed"/> acknowledged writes (and maybe a router restart), then comes back on its data.</summary>
    private async Task<string> LateReturnAsync(ManagedProcess node, bool hard, bool acrossRestart, int missed)
    {
        var how = hard ? "SIGKILL" : "SIGTERM";
        if (hard)
            await node.KillAsync();
        else if (await node.TerminateAsync() is var code and not 0)
            how += code is null ? " (hung, killed)" : $" (exit code {code})";
        var target = load.Acknowledged.Value + missed;
        var restart = "";
        if (acrossRestart)
            restart = $", {await RestartRouterAsync($"after router restart ({node.Name} down)")} meanwhile";
        var down = Stopwatch.StartNew();
        try
        {
            await load.Acknowledged.WaitForAsync(target, options.RecoveryTimeout);
        }
        catch (TimeoutException)
        {
            throw new ChaosFailureException($"writes stalled while {node.Name} was down: {load.Acknowledged.Value} acknowledged, not {target}, within {options.RecoveryTimeout.TotalSeconds:0} s: {await cluster.DescribeAsync()}");
        }
        node.Start();
        return $"{node.Name} by {how}, down for {missed} writes ({down.Elapsed.TotalSeconds:0.0} s){restart}, back at {runClock.Elapsed.TotalSeconds:0.0}s";
    }
}

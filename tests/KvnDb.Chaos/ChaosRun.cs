using System.Diagnostics;
using KvnDb.Protocol;

namespace KvnDb.Chaos;

/// <summary>
/// Writers run against a router and N nodes (real child processes, each node's link through a relay of this
/// tool) while the seeded schedule kills, resets, freezes, cuts and late-returns nodes and kills and freezes the
/// router. After every router restart or freeze the ledger is checked at once; at the end every node must serve,
/// all digests agree and every key hold a value the ledger allows.
/// </summary>
internal sealed class ChaosRun(ChaosOptions options, TextWriter log)
{
    private readonly KeyLedger _ledger = new();

    public async Task<int> RunAsync(CancellationToken interrupt)
    {
        Directory.CreateDirectory(options.WorkDirectory);
        if (options.Routers > 1 && options.Kinds.Any(k => k is DisturbanceKind.Cut or DisturbanceKind.CutAll))
        {
            // A group's nodes follow redirects to the leader's own port: there is no relay of this tool to cut.
            var kinds = options.Kinds.Where(k => k is not (DisturbanceKind.Cut or DisturbanceKind.CutAll)).ToList();
            if (kinds.Count == 0)
                throw new ArgumentException("cut and cut-all need a single router (--routers 1)");
            options = options with { Kinds = kinds };
            await log.WriteLineAsync("chaos: cut and cut-all left out: they need a single router's relays");
        }
        await log.WriteLineAsync($"chaos: seed {options.Seed}, {(options.Routers > 1 ? $"a group of {options.Routers} routers, " : "")}{options.Nodes} {options.Engine} nodes, {options.Keys} keys, {options.Duration.TotalSeconds:0} s"
            + $" (at least {options.MinRounds} rounds), disturbances {string.Join(',', options.Kinds.Select(DisturbanceKinds.Name))}, logs in {options.WorkDirectory}");
        var clock = Stopwatch.StartNew();
        var check = new LedgerCheck(_ledger, log, options.RecoveryTimeout);
        using var stop = new CancellationTokenSource();
        var cluster = new ChaosCluster(options);
        var load = new WriteLoad(cluster, _ledger, options, clock);
        var disturber = new Disturber(cluster, load, check, options, log, clock);
        var result = new RunResult();
        try
        {
            await cluster.StartAsync();
            await log.WriteLineAsync(cluster.IsGroup
                ? $"chaos: routers on ports {string.Join(", ", cluster.RouterPorts)}, nodes given all of them"
                : $"chaos: router on port {cluster.Port}, nodes through relays on ports {string.Join(", ", cluster.Relays.Select(r => r.Port))}");
            // The start and the end checks are not cut short by Ctrl+C (interrupt): it only ends the disturbances.
            _ = await cluster.WaitForServingAsync(options.RecoveryTimeout, stop: CancellationToken.None)
                ?? throw new ChaosFailureException($"the cluster never served with every node: {await cluster.DescribeAsync()}");
            load.Start(stop.Token);
            while (!interrupt.IsCancellationRequested && (clock.Elapsed < options.Duration || disturber.RoundsCompleted < options.MinRounds))
            {
                if (await PauseAsync(interrupt))
                    await disturber.DisturbAsync(); // one disturbance is bounded; Ctrl+C ends the run after it, with the end checks
            }
            await stop.CancelAsync();
            await load.StopAsync();

            result.AllServing = await cluster.WaitForServingAsync(TimeSpan.FromSeconds(60), stop: CancellationToken.None) is not null;
            await disturber.CollectSyncCountersAsync();
            await check.RunAsync(cluster.Client, "at the end");
            var digests = await cluster.Client.DigestAsync(CancellationToken.None);
            foreach (var d in digests)
                await log.WriteLineAsync($"chaos: node{d.NodeId} {d.State} keys={d.Digest.KeyCount} sequence={d.Digest.LastSequence} digest={d.Digest.ContentHash:x16}");
            var serving = digests.Where(d => d.State == NodeState.Serving).ToList();
            result.DigestsAgree = serving.Count == options.Nodes && serving.Select(d => (d.Digest.ContentHash, d.Digest.KeyCount)).Distinct().Count() == 1;
            result.Passed = result.AllServing && result.DigestsAgree && load.Acknowledged.Value > 0;
        }
        catch (ChaosFailureException e)
        {
            await log.WriteLineAsync($"chaos: FAIL at {clock.Elapsed.TotalSeconds:0.0}s: {e.Message}");
        }
        finally
        {
            await stop.CancelAsync();
            await load.StopAsync();
            await cluster.DisposeAsync();
        }

        var counts = string.Join(", ", options.Kinds.Select(k => $"{DisturbanceKinds.Name(k)} {disturber.Counts[k]}"));
        await log.WriteLineAsync($"chaos: summary: seed {options.Seed}, {clock.Elapsed.TotalSeconds:0} s, {disturber.Counts.Values.Sum()} disturbances ({counts}), router restarts {disturber.RouterRestarts}");
        await log.WriteLineAsync($"chaos: summary: writes acknowledged {load.Acknowledged.Value}, failed (outcome unknown) {load.Failed}, ledger checks {check.Checks}, keys checked {check.KeysChecked}, lost {check.Lost}"
            + $", late indeterminate writes seen {check.LateIndeterminate}, longest write stall {load.LongestStall.TotalSeconds:0.0} s");
        if (disturber.Failovers.Count > 0)
        {
            var sorted = disturber.Failovers.Select(f => f.TotalMilliseconds).Order().ToList();
            var p99 = sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(sorted.Count * 0.99) - 1)];
            await log.WriteLineAsync($"chaos: summary: failover (leader SIGKILL to the first acknowledgement of a write sent after it) over {sorted.Count} kills: "
                + $"median {sorted[sorted.Count / 2]:0} ms, p99 {p99:0} ms, max {sorted[^1]:0} ms; all {string.Join(" ", sorted.Select(f => f.ToString("0", System.Globalization.CultureInfo.InvariantCulture)))}; load {LoadAverage()}");
            await log.WriteLineAsync($"chaos: summary: failover stages, seconds from the kill, median/p99: {FailoverTimeline.Summarise(disturber.Timelines)}");
        }
        await log.WriteLineAsync($"chaos: summary: full syncs {disturber.FullSyncs}, replayed writes {disturber.ReplayedWrites}, all nodes serving {result.AllServing}, digests agree {result.DigestsAgree}");
        if (result.Passed)
        {
            await log.WriteLineAsync("chaos: PASS");
            if (!options.Keep)
                Directory.Delete(options.WorkDirectory, recursive: true);
            return 0;
        }
        await log.WriteLineAsync($"chaos: FAIL (replay with --seed {options.Seed}; logs in {options.WorkDirectory})");
        return 1;
    }

    /// <summary>The schedule's pace, not a wait for anything; false when the run is interrupted.</summary>
    private async Task<bool> PauseAsync(CancellationToken interrupt)
    {
        try
        {
            await Task.Delay(options.Interval, interrupt);
            return true;
        }
        catch (OperationCanceledException)
        {
            await log.WriteLineAsync("chaos: interrupted, checking what the cluster holds");
            return false;
        }
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";

    private sealed class RunResult
    {
        public bool AllServing { get; set; }

        public bool DigestsAgree { get; set; }

        public bool Passed { get; set; }
    }
}

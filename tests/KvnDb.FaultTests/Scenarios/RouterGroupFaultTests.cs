using System.Diagnostics;
using KvnDb.Client;
using KvnDb.Protocol;
using KvnDb.FaultTests.Linearizability;
using Xunit.Abstractions;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>
/// Fencing of a router group (issue 17) on a real network: three routers and three nodes, each in its own namespace,
/// clients writing through every router (they follow redirects). The leader is partitioned from the other routers and
/// from some nodes (nft drops, no process dies), or paused; the checks: it steps down, a new leader is elected on the
/// majority side and serves, <b>no write the old leader received after a later term's leader existed is acknowledged
/// by it, and no read it received then is answered by it</b> (both fenced by its lease), no write acknowledged with concern <c>all</c> is lost, the history is linearizable, and the digests
/// agree after the heal.
/// </summary>
public sealed class RouterGroupFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>
    /// DotNext's leader steps down after a heartbeat round (every quarter election timeout) that misses a majority, a round
    /// waiting up to one election timeout: 1.25 election timeouts, asserted at twice the upper election timeout plus 2 s
    /// (two loaded cores).
    /// </summary>
    private static readonly TimeSpan StepDownBound = RouterGroupCluster.ElectionTimeout * 4 + TimeSpan.FromSeconds(2);

    [SkippableFact]
    public async Task The_leader_cut_from_the_other_routers_and_two_nodes_steps_down_and_acknowledges_nothing_once_deposed()
    {
        await ScenarioRun.SkipUnlessAvailableAsync();
        await using var run = await GroupScenario.StartAsync("router group: leader cut from the routers and two nodes", output);
        var cluster = run.Cluster;
        var leaderHost = cluster.RouterHosts[run.Leader];
        // node1 stays linked to the old leader (and reaches the new one): the old leader keeps a node that applies its writes.
        var cut = cluster.RouterHosts.Where(h => h != leaderHost).Concat(cluster.NodeHosts.Skip(1)).ToArray();
        var stepDown = cluster.WaitForStepDownAsync(run.Leader, run.LeaderTerm, Patience);
        var stepDownSeen = stepDown.ContinueWith(_ => History.Now, TaskScheduler.Default);

        var cutAt = History.Now;
        await cluster.Lab.CutBetweenAsync(leaderHost, cut);
        run.Log($"fault: r{run.Leader + 1} cut from {string.Join(", ", cut.Select(h => h.Role))} (node1, the client and the probe still reach it)");
        var (electedAt, leader, term) = await run.WaitForNewLeaderAsync(Patience);
        run.Log($"r{leader + 1} leads term {term}, seen {GroupScenario.Between(cutAt, electedAt)} after the cut");
        // The majority side serves: writes with concern all acknowledged by the new leader, sent after the cut.
        var newLeader = cluster.RouterAddresses[leader];
        var served = await run.Workload.WaitForAcknowledgedAsync(a => a.Router == newLeader && a.Concern == WriteConcern.All && a.Operation.Invoke > cutAt, 100, Patience);
        run.Log(served ? "the new leader serves" : $"the new leader r{leader + 1} did not acknowledge 100 writes within {Patience}");
        // Long since due (the new leader serves); a leader that never steps down is reported below with what it acknowledged.
        await ((Task)stepDownSeen).WaitAsync(StepDownBound).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        var steppedDown = stepDownSeen.IsCompleted && stepDown.IsCompletedSuccessfully;
        var steppedDownAt = steppedDown ? await stepDownSeen : History.Now;
        run.Log(steppedDown ? $"r{run.Leader + 1} stepped down {GroupScenario.Between(cutAt, steppedDownAt)} after the cut" : $"r{run.Leader + 1} has not stepped down");

        await cluster.Lab.HealAllPairsAsync();
        var healAt = History.Now;
        run.Log("heal: every link back");
        var whole = await cluster.Probe.TryWaitForAsync(s => s.Serving == RouterGroupCluster.NodeCount, Patience, healAt) is not null;

        // A group split in two never becomes whole: its history is judged as it stands.
        var failures = whole ? await run.FinishAsync() : ["3 nodes not serving one leader within 60 s of the heal"];
        if (!served)
            failures.Add($"the new leader r{leader + 1} did not acknowledge 100 writes with concern all within {Patience} of its election");
        var late = run.AcknowledgedAfter(electedAt);
        Report(run, cutAt, electedAt, steppedDownAt, newLeader, late);
        if (late.Count > 0)
            failures.Add($"the deposed leader acknowledged {late.Count} writes it received after r{leader + 1} led term {term}, e.g. {string.Join(" | ", late.Take(3).Select(a => Describe(a, cutAt)))}");
        var lateReads = run.ReadsAnsweredAfter(electedAt);
        run.Log($"{lateReads.Count} reads answered by the deposed leader after r{leader + 1} led; {ReadsBy(run, run.LeaderAddress, cutAt)} answered by it after the cut");
        if (lateReads.Count > 0)
            failures.Add($"the deposed leader answered {lateReads.Count} reads it received after r{leader + 1} led term {term}, e.g. {string.Join(" | ", lateReads.Take(3).Select(r => Describe(r, cutAt)))}");
        var stepDownTime = Stopwatch.GetElapsedTime(cutAt, steppedDownAt);
        if (!steppedDown || stepDownTime > StepDownBound)
            failures.Add($"the old leader {(steppedDown ? $"stepped down {stepDownTime.TotalSeconds:F1} s after the cut" : "did not step down")}, bound {StepDownBound.TotalSeconds:F1} s");
        run.AssertPassed(failures);
    }

    [SkippableFact]
    public async Task A_leader_paused_past_an_election_acknowledges_none_of_the_writes_it_finds_queued()
    {
        await ScenarioRun.SkipUnlessAvailableAsync();
        // Nodes and clients wait 20 s before they give up on a silent router: they are all still linked to the old leader
        // when it wakes, so only its own fencing can keep it from acknowledging what it finds queued.
        await using var run = await GroupScenario.StartAsync("router group: leader paused past an election", output, linkTimeout: TimeSpan.FromSeconds(20));
        var cluster = run.Cluster;
        var process = cluster.Routers[run.Leader]!;
        var stepDown = cluster.WaitForStepDownAsync(run.Leader, run.LeaderTerm, Patience);

        // The old leader must see that it did not run (StallDetector), whatever its lease timer says on waking.
        var stall = process.WaitForOutputAsync(new System.Text.RegularExpressions.Regex("this process did not run for [0-9]+ ms"), Patience);
        var frozenAt = History.Now;
        process.Freeze();
        run.Log($"fault: r{run.Leader + 1} frozen (SIGSTOP)");
        (long SeenAt, int Router, long Term) elected;
        try
        {
            elected = await run.WaitForNewLeaderAsync(Patience);
        }
        finally
        {
            process.Thaw();
        }
        var thawedAt = History.Now;
        run.Log($"r{elected.Router + 1} leads term {elected.Term}, seen {GroupScenario.Between(frozenAt, elected.SeenAt)} after the freeze; r{run.Leader + 1} thawed");
        await stepDown;
        run.Log($"r{run.Leader + 1} saw its stall: {(await stall).Value}");
        run.Log($"r{run.Leader + 1} stepped down {GroupScenario.Between(thawedAt, History.Now)} after the thaw");
        var newLeader = cluster.RouterAddresses[elected.Router];
        Assert.True(await run.Workload.WaitForAcknowledgedAsync(a => a.Router == newLeader && a.Concern == WriteConcern.All, 100, Patience),
            $"the new leader r{elected.Router + 1} did not acknowledge 100 writes within {Patience}\n{cluster.Diagnostics()}");
        run.Log("the new leader serves");
        await cluster.Probe.WaitForAsync(s => s.Serving == RouterGroupCluster.NodeCount, Patience, "3 serving nodes", thawedAt);

        var failures = await run.FinishAsync();
        // Whatever reached the old leader after it froze was read by it after the thaw, when a later term's leader existed.
        var late = run.AcknowledgedAfter(frozenAt);
        Report(run, frozenAt, elected.SeenAt, thawedAt, newLeader, late);
        if (late.Count > 0)
            failures.Add($"the deposed leader acknowledged {late.Count} writes sent to it while it was frozen or after, e.g. {string.Join(" | ", late.Take(3).Select(a => Describe(a, frozenAt)))}");
        // Its nodes are still linked and answer the reads it finds queued: only the lease (and the stall) keeps it from passing them on.
        var lateReads = run.ReadsAnsweredAfter(frozenAt);
        run.Log($"{lateReads.Count} reads answered by the deposed leader after the freeze");
        if (lateReads.Count > 0)
            failures.Add($"the deposed leader answered {lateReads.Count} reads sent to it while it was frozen or after, e.g. {string.Join(" | ", lateReads.Take(3).Select(r => Describe(r, frozenAt)))}");
        run.AssertPassed(failures);
    }

    private static void Report(GroupScenario run, long faultAt, long electedAt, long oldLeaderDoneAt, string newLeader, IReadOnlyList<GroupAcknowledgement> late)
    {
        var acknowledged = run.Workload.Acknowledged;
        var lastOld = acknowledged.Where(a => a.Router == run.LeaderAddress).Select(a => a.Operation.Complete).DefaultIfEmpty(faultAt).Max();
        var firstNew = acknowledged.Where(a => a.Router == newLeader && a.Operation.Invoke > faultAt).Select(a => a.Operation.Complete).DefaultIfEmpty(faultAt).Min();
        var unattributed = acknowledged.Count(a => a.Router is null);
        run.Log($"from the fault: new leader seen {GroupScenario.Between(faultAt, electedAt)}, old leader done {GroupScenario.Between(faultAt, oldLeaderDoneAt)}, " +
            $"last acknowledgement by the old leader {Signed(faultAt, lastOld)}, first by the new one {Signed(faultAt, firstNew)}; " +
            $"{late.Count} acknowledged by the deposed leader; {unattributed} acknowledgements not attributed (the client changed router meanwhile); load {LoadAverage()}");
    }

    private static string Describe(GroupAcknowledgement a, long faultAt) =>
        $"{a.Operation} ({a.Concern}, invoked {Signed(faultAt, a.Operation.Invoke)}, acknowledged {Signed(faultAt, a.Operation.Complete)} after the fault)";

    private static string Describe(GroupRead r, long faultAt) =>
        $"{r.Operation} (invoked {Signed(faultAt, r.Operation.Invoke)}, answered {Signed(faultAt, r.Operation.Complete)} after the fault)";

    private static int ReadsBy(GroupScenario run, string router, long after) =>
        run.Workload.Answered.Count(r => r.Router == router && r.Operation.Invoke > after);

    private static string Signed(long from, long to) =>
        to >= from ? GroupScenario.Between(from, to) : "-" + GroupScenario.Between(to, from);

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}

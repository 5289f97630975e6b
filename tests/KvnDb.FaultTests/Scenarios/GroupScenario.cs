using System.Diagnostics;
using System.Globalization;
using KvnDb.Client;
using KvnDb.Protocol;
using KvnDb.FaultTests.Linearizability;
using Xunit.Abstractions;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>
/// One router group scenario from start to verdict: the group and its nodes up, the workload running, the leader
/// found; the scenario's fault; then read-back of every key, digests, the linearizability check (keys written with
/// concern <c>all</c>), the fencing check (<see cref="AcknowledgedAfter"/>) and the report.
/// </summary>
internal sealed class GroupScenario : ScenarioBase<GroupWorkload>
{
    private GroupScenario(string name, ITestOutputHelper output, RouterGroupCluster cluster)
        : base(name, output, cluster)
    {
        Cluster = cluster;
    }

    public RouterGroupCluster Cluster { get; }

    /// <summary>The router that led when the scenario began, its address and its term.</summary>
    public int Leader { get; private set; }

    public string LeaderAddress => Cluster.RouterAddresses[Leader];

    public long LeaderTerm { get; private set; }

    /// <summary>Starts the group and the workload; <paramref name="linkTimeout"/> is the nodes' --router-timeout and the clients' router timeout (null: the usual 3 s).</summary>
    public static async Task<GroupScenario> StartAsync(string name, ITestOutputHelper output, TimeSpan? linkTimeout = null, bool twoGroups = false)
    {
        var cluster = await RouterGroupCluster.StartAsync(linkTimeout, twoGroups);
        var run = new GroupScenario(name, output, cluster);
        try
        {
            run.Log($"router group up in lab {cluster.Lab.Id} ({FaultSettings.Label}, election timeout {RouterGroupCluster.ElectionTimeout.TotalMilliseconds} ms)");
            run.Workload = await GroupWorkload.StartAsync(cluster, run.History, TimeSpan.FromSeconds(10), linkTimeout);
            if (!await run.Workload.WaitForAcknowledgedAsync(a => a.Concern == WriteConcern.All, 200, TimeSpan.FromSeconds(60)))
                throw new TimeoutException($"the workload did not get 200 writes acknowledged in 60 s\n{cluster.Diagnostics()}");
            await using (var probe = await cluster.ConnectAsync(cluster.ProbeHost, TimeSpan.FromSeconds(5), 0))
            {
                // A leader that has taken writes: the one this scenario deposes.
                var info = await RouterInfo.ReadAsync(probe);
                run.Leader = cluster.IndexOfRouter(info["router_self"]);
                run.LeaderTerm = info.GetInt64("router_term");
                Assert.True(run.Leader >= 0, $"the probe's router {info["router_self"]} is none of {string.Join(",", cluster.RouterAddresses)}");
            }
            run.Log($"workload running; r{run.Leader + 1} ({run.LeaderAddress}) leads term {run.LeaderTerm}");
            return run;
        }
        catch
        {
            await run.DisposeAsync();
            throw;
        }
    }

    /// <summary>Seconds from <paramref name="from"/> to <paramref name="to"/> (History times), for the log.</summary>
    public static string Between(long from, long to) =>
        Stopwatch.GetElapsedTime(from, to).TotalSeconds.ToString("F2", CultureInfo.InvariantCulture) + " s";

    /// <summary>
    /// Waits for another router than the old leader to lead a later term; returns when the test saw it (History time:
    /// never before the election) and which router it is.
    /// </summary>
    public async Task<(long SeenAt, int Router, long Term)> WaitForNewLeaderAsync(TimeSpan timeout)
    {
        var others = Enumerable.Range(0, RouterGroupCluster.RouterCount).Where(i => i != Leader).ToArray();
        var waits = others.Select(async i => (Router: i, Term: await Cluster.WaitForLeadingAsync(i, LeaderTerm, timeout))).ToList();
        var first = await Task.WhenAny(waits).WaitAsync(timeout + TimeSpan.FromSeconds(5));
        var seenAt = History.Now;
        var (router, term) = await first;
        return (seenAt, router, term);
    }

    /// <summary>Writes the old leader acknowledged that it received after <paramref name="deposedAt"/> (a History time after a later term's leader existed).</summary>
    public IReadOnlyList<GroupAcknowledgement> AcknowledgedAfter(long deposedAt) =>
        [.. Workload.Acknowledged.Where(a => a.Router == LeaderAddress && a.Operation.Invoke > deposedAt).OrderBy(a => a.Operation.Invoke)];

    /// <summary>Reads the old leader answered that it received after <paramref name="deposedAt"/>: it no longer held its lease then (the read fence).</summary>
    public IReadOnlyList<GroupRead> ReadsAnsweredAfter(long deposedAt) =>
        [.. Workload.Answered.Where(r => r.Router == LeaderAddress && r.Operation.Invoke > deposedAt).OrderBy(r => r.Operation.Invoke)];

    /// <summary>Stops the workload, reads every key back, compares digests and checks the history; returns the failures found.</summary>
    public async Task<List<string>> FinishAsync()
    {
        // A little more traffic on the healed group, then stop and read everything back.
        var before = Workload.AcknowledgedCount;
        var healedWrites = await Workload.WaitForAcknowledgedAsync(_ => true, before + 100, TimeSpan.FromSeconds(60));
        await StopWorkloadAsync();
        Log($"workload stopped: {Workload.AcknowledgedCount} writes acknowledged; failures {string.Join(", ", Workload.Failures.Select(f => $"{f.Key} {f.Value}"))}");
        var failures = new List<string>();
        if (!healedWrites)
            failures.Add("writes did not resume after the heal");

        await using var reader = await Cluster.ConnectAsync(Cluster.ProbeHost, TimeSpan.FromSeconds(5), 0).WaitAsync(TimeSpan.FromSeconds(60));
        var finals = await ReadBackAsync(reader, Enumerable.Range(0, GroupWorkload.HotKeys).Select(GroupWorkload.HotKey), attempts: 3);
        var (digestsAgree, digests) = Cluster.TwoGroups
            ? await CompareGroupDigestsAsync(reader, TimeSpan.FromSeconds(30))
            : await ScenarioRun.CompareDigestsAsync(reader, TimeSpan.FromSeconds(30));
        Log($"digests: {digests}");
        if (!digestsAgree)
            failures.Add($"digests after healing: {digests}");

        // Concern one may lose a write in a failover by design: its keys are checked for fencing only.
        var operations = History.Snapshot().Where(o => !o.Key.StartsWith(GroupWorkload.OnePrefix, StringComparison.Ordinal)).ToList();
        var check = RegisterChecker.Check(operations);
        var lost = FinalState.FindLost(operations, finals.Where(f => !f.Key.StartsWith(GroupWorkload.OnePrefix, StringComparison.Ordinal)));
        Log($"checked {operations.Count} operations on {check.Keys.Count} keys: {check.Violations.Count} violations ({check.Inconclusive.Count} inconclusive); " +
            $"acknowledged keys lost {lost.LostKeys.Count} of {lost.AcknowledgedKeys} (+{lost.UnverifiedKeys.Count} unreadable)");
        if (check.Violations.Count > 0)
            failures.Add($"{check.Violations.Count} keys with linearizability violations, e.g. {string.Join(" | ", check.Violations.Take(3).Select(v => v.Explanation ?? v.Key))}");
        if (lost.LostKeys.Count > 0 || lost.UnverifiedKeys.Count > 0)
            failures.Add($"acknowledged (concern all) keys lost: {string.Join(", ", lost.LostKeys.Take(5))} (+{lost.UnverifiedKeys.Count} unreadable)");
        return failures;
    }

    /// <summary>
    /// Two replica groups hold different keys: the nodes of each group (named by the router's <c>info</c>) must all serve
    /// and agree with each other.
    /// </summary>
    private static Task<(bool Agree, string Summary)> CompareGroupDigestsAsync(KvnDbClient client, TimeSpan patience) =>
        ScenarioRun.PollDigestsAsync(patience, async token =>
        {
            var groups = (await RouterInfo.ReadAsync(client, token)).Nodes.ToDictionary(n => n.Id, n => n.Fields.GetValueOrDefault("group", "?"));
            var entries = await client.DigestAsync(token).WaitAsync(TimeSpan.FromSeconds(6), token);
            var summary = string.Join(", ", entries.Select(e => $"node{e.NodeId} ({groups.GetValueOrDefault(e.NodeId, "?")}) {e.State.ToString().ToLowerInvariant()} keys={e.Digest.KeyCount} hash={e.Digest.ContentHash:x}"));
            var byGroup = entries.GroupBy(e => groups.GetValueOrDefault(e.NodeId, "?")).ToDictionary(g => g.Key, g => g.ToList());
            var agree = entries.Count == RouterGroupCluster.NodeCount && entries.All(e => e.State == NodeState.Serving)
                && byGroup.GetValueOrDefault("a")?.Count == 2 && byGroup.GetValueOrDefault("b")?.Count == 1
                && byGroup.Values.All(g => g.Select(e => e.Digest).Distinct().Count() == 1);
            return (agree, summary);
        });

    public void AssertPassed(List<string> failures)
    {
        if (failures.Count > 0)
            Assert.Fail($"{Name}: {string.Join("; ", failures)}\n{Cluster.Diagnostics()}");
    }
}

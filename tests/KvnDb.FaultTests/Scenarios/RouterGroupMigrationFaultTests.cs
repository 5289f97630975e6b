using System.Globalization;
using KvnDb.Client;
using KvnDb.FaultTests.Linearizability;
using KvnDb.Testing;
using Xunit.Abstractions;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>
/// A slot migration on a router group (issues 17 and 18) on a real network: three routers split the slots between
/// replica groups <c>a</c> (node1, node2) and <c>b</c> (node3). While half of a's slots move to b, the leader that
/// started the move is cut from the other routers (nft drops, no process dies). The next leader must find the
/// migration in the Raft log and finish it; the checks: the slots end in b, every preloaded key reads back as written,
/// no write acknowledged with concern <c>all</c> is lost, the history is linearizable, and each group's nodes agree.
/// </summary>
public sealed class RouterGroupMigrationFaultTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    /// <summary>Keys written before the move, so the copy lasts long enough for the cut to land in it.</summary>
    private const int Preloaded = 40_000;

    private const int MovedSlots = 4096;

    [SkippableFact]
    public async Task A_migration_whose_leader_is_cut_off_is_finished_by_the_next_leader_and_loses_nothing()
    {
        await ScenarioRun.SkipUnlessAvailableAsync();
        await using var run = await GroupScenario.StartAsync("router group: slot migration, its leader cut off mid-move", output, twoGroups: true);
        var cluster = run.Cluster;
        await using var admin = await cluster.ConnectAsync(cluster.ProbeHost, TimeSpan.FromSeconds(20), run.Leader);

        var preloaded = Enumerable.Range(0, Preloaded).Select(i => KeyValuePair.Create($"pre:{i}", $"v{i}-{new string('x', 64)}")).ToList();
        foreach (var chunk in preloaded.Chunk(1000))
            await admin.MultiSetStringsAsync(chunk);
        var before = await RouterInfo.ReadAsync(admin);
        run.Log($"preloaded {Preloaded} keys; {before["group_a"]}; {before["group_b"]}");

        var started = await admin.MoveSlotsAsync("a", "b", MovedSlots);
        var leaderHost = cluster.RouterHosts[run.Leader];
        var cutAt = History.Now;
        await cluster.Lab.CutBetweenAsync(leaderHost, [.. cluster.RouterHosts.Where(h => h != leaderHost)]);
        run.Log($"{started}; fault: r{run.Leader + 1} cut from the other routers at once");
        run.Log($"the migration as the cut-off leader tells it: {await MigrationSeenByAsync(admin)}");
        var (electedAt, leader, term) = await run.WaitForNewLeaderAsync(Patience);
        run.Log($"r{leader + 1} leads term {term}, seen {GroupScenario.Between(cutAt, electedAt)} after the cut");

        await cluster.Lab.HealAllPairsAsync();
        var healAt = History.Now;
        run.Log("heal: every link back");
        await cluster.Probe.WaitForAsync(s => s.Serving == RouterGroupCluster.NodeCount, Patience, $"{RouterGroupCluster.NodeCount} serving nodes", healAt);

        // The migration ends under the new leader: the slots are b's and no migration is left.
        string? last = null;
        await Eventually.WaitAsync(async () =>
        {
            try
            {
                var info = await RouterInfo.ReadAsync(admin);
                last = $"migration: {info["migration"]}; {info["group_b"]}";
                return info["migration"] == "none" && info["group_b"].StartsWith(
                    string.Create(CultureInfo.InvariantCulture, $"slots={KvnDb.Protocol.KeySlot.Count / 2 + MovedSlots} "), StringComparison.Ordinal);
            }
            catch (KvnDbException)
            {
                return false; // the client is finding the leader
            }
        }, TimeSpan.FromSeconds(120), "the migration to end with the slots in b");
        run.Log($"after the heal: {last}");

        var failures = await run.FinishAsync();
        var lost = new List<string>();
        foreach (var chunk in preloaded.Chunk(1000))
        {
            var values = await admin.MultiGetStringsAsync([.. chunk.Select(p => p.Key)]);
            lost.AddRange(chunk.Where((p, i) => values[i] != p.Value).Select(p => p.Key));
        }
        run.Log($"preloaded keys read back: {Preloaded - lost.Count} of {Preloaded} as written");
        if (lost.Count > 0)
            failures.Add($"{lost.Count} preloaded keys not read back as written, e.g. {string.Join(", ", lost.Take(5))}");
        run.AssertPassed(failures);
    }

    /// <summary>The <c>migration</c> line of the router the client is on (for the log: where the cut landed).</summary>
    private static async Task<string> MigrationSeenByAsync(KvnDbClient client)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            return (await RouterInfo.ReadAsync(client, timeout.Token))["migration"];
        }
        catch (Exception ex) when (ex is KvnDbException or OperationCanceledException)
        {
            return $"no answer ({ex.Message})";
        }
    }
}

using System.Diagnostics;
using System.Globalization;
using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using Xunit.Abstractions;

namespace KvnDb.IntegrationTests;

/// <summary>
/// Router high availability (issue 17): three <c>kvndb-router</c> processes form a Raft group on loopback, nodes and
/// clients are given all three. The leader is the active router; standbys redirect; killing the leader loses no write
/// acknowledged with write concern all, and the replicas agree.
/// </summary>
public sealed class RouterGroupTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Three_routers_elect_one_active_router_standbys_redirect_to_it_and_info_shows_the_group()
    {
        await using var group = RouterGroupProcesses.Launch(3);
        var nodes = StartNodes(group, 2);
        try
        {
            await using var client = await group.ConnectAsync();
            await RouterCrashTests.WaitForServingAsync(client, 2);
            await SetAsync(client, "k", "v");
            Assert.Equal("v", await client.GetStringAsync("k"));

            var info = await RouterInfo.ReadAsync(client);
            Assert.Equal("leader", info["router_role"]);
            Assert.Equal(client.Router, info["router_leader"]);
            Assert.True(long.Parse(info["router_term"], CultureInfo.InvariantCulture) >= 1);
            Assert.Equal(3, info["routers"].Split(',').Length);
            Assert.Single(info["routers"].Split(','), r => r.Contains("=leader", StringComparison.Ordinal));

            // A client that knows only a standby hears where the leader is.
            foreach (var standby in group.Members.Where(m => m.Address != client.Router))
            {
                var refused = await Assert.ThrowsAsync<KvnDbNotLeaderException>(() =>
                    KvnDbClient.ConnectAsync(new KvnDbClientOptions { Host = "127.0.0.1", Port = standby.Port }));
                Assert.Equal(client.Router, refused.Leader);
            }
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Fact]
    public async Task Killing_the_leader_under_writes_loses_no_acknowledged_write_and_replicas_agree()
    {
        var kills = int.TryParse(Environment.GetEnvironmentVariable("KVNDB_FAILOVER_KILLS"), CultureInfo.InvariantCulture, out var k) ? k : 3;
        await using var group = RouterGroupProcesses.Launch(3);
        var nodes = StartNodes(group, 2);
        try
        {
            await using var client = await group.ConnectAsync();
            await RouterCrashTests.WaitForServingAsync(client, 2);

            var acknowledged = new Dictionary<string, string>();
            var count = new AwaitableCounter();
            using var stop = new CancellationTokenSource();
            var writer = Task.Run(async () =>
            {
                // Each key written twice (the second value overwrites the first): a lost overwrite shows too.
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var key = $"w{i / 2}";
                    var value = $"{key}-{i % 2}";
                    await Eventually.SucceedsAsync<KvnDbException>(async () => await client.SetAsync(key, value), TestCluster.Timeout);
                    lock (acknowledged)
                        acknowledged[key] = value;
                    count.Increment();
                }
            });
            count.Observe(writer);

            var failovers = new List<double>();
            for (var kill = 0; kill < kills; kill++)
            {
                await count.WaitForAsync(count.Value + 200, TestCluster.Timeout);
                var leader = await LeaderIndexAsync(group, client);
                var before = count.Value;
                var clock = Stopwatch.StartNew();
                await group.KillAsync(leader);
                // Writes resume through the new leader. One writer, one write at a time: the second acknowledgement after the
                // kill is of a write sent after it (the first may be one the old leader answered just before it died).
                await count.WaitForAsync(before + 2, TestCluster.Timeout);
                failovers.Add(clock.Elapsed.TotalMilliseconds);
                // The killed router comes back as a standby, so the group has three members for the next kill.
                group.Start(leader);
            }
            await count.WaitForAsync(count.Value + 200, TestCluster.Timeout);
            await stop.CancelAsync();
            await writer.WaitAsync(TestCluster.Timeout);

            await RouterCrashTests.WaitForServingAsync(client, 2);
            KeyValuePair<string, string>[] written;
            lock (acknowledged)
                written = [.. acknowledged];
            var values = await client.MultiGetStringsAsync([.. written.Select(w => w.Key)]);
            Assert.All(written.Zip(values), pair => Assert.Equal(pair.First.Value, pair.Second));
            var digests = await client.DigestAsync();
            Assert.Equal(2, digests.Count(d => d.State == NodeState.Serving));
            Assert.Single(digests.Select(d => d.Digest).Distinct());

            failovers.Sort();
            output.WriteLine($"failover (kill -9 of the leader to the next acknowledged write) over {failovers.Count} kills: " +
                $"median {failovers[failovers.Count / 2]:0} ms, p99 {failovers[Math.Min(failovers.Count - 1, (int)Math.Ceiling(failovers.Count * 0.99) - 1)]:0} ms, " +
                $"max {failovers[^1]:0} ms; all: {string.Join(" ", failovers.Select(f => f.ToString("0", CultureInfo.InvariantCulture)))}; load {LoadAverage()}");
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Fact]
    public async Task A_standby_restarted_with_an_empty_data_folder_catches_up_and_leads_from_the_replicated_metadata()
    {
        await using var group = RouterGroupProcesses.Launch(3);
        var nodes = StartNodes(group, 2);
        try
        {
            await using var client = await group.ConnectAsync();
            await RouterCrashTests.WaitForServingAsync(client, 2);
            await SetAsync(client, "before", "1");

            var leader = await LeaderIndexAsync(group, client);
            var wiped = (leader + 1) % 3;
            var third = 3 - leader - wiped;
            await group.KillAsync(wiped);
            group.Members[wiped].WipeData();
            group.Start(wiped);
            await group.KillAsync(third);
            // A metadata change while the third router is down: committed by the leader and the wiped router alone.
            await nodes[1].StopAsync();
            await Eventually.WaitAsync(async () =>
            {
                try
                {
                    return (await RouterInfo.ReadAsync(client)).InSync.Count == 1;
                }
                catch (KvnDbException)
                {
                    return false;
                }
            }, TestCluster.Timeout, "the in-sync set without the stopped node");
            var inSync = (await RouterInfo.ReadAsync(client)).InSync;

            await group.KillAsync(leader);
            group.Start(third);
            // The third router's log lacks that change, so Raft lets only the wiped router lead: it caught up from nothing.
            await Eventually.SucceedsAsync<KvnDbException>(async () => await client.SetAsync("after", "3"), TestCluster.Timeout);
            Assert.Equal(group.Members[wiped].Address, client.Router);
            Assert.Equal(inSync, (await RouterInfo.ReadAsync(client)).InSync);
            Assert.Equal("1", await client.GetStringAsync("before"));
            Assert.Equal("3", await client.GetStringAsync("after"));
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Fact]
    public async Task A_leader_whose_standbys_freeze_stops_acknowledging_writes_and_answering_reads_and_the_group_recovers_without_losing_any()
    {
        await using var group = RouterGroupProcesses.Launch(3);
        var nodes = StartNodes(group, 2);
        try
        {
            await using var client = await group.ConnectAsync();
            await RouterCrashTests.WaitForServingAsync(client, 2);
            var acknowledged = new List<string>();
            for (var i = 0; i < 50; i++)
            {
                await SetAsync(client, $"a{i}", $"a{i}");
                acknowledged.Add($"a{i}");
            }
            var leader = await LeaderIndexAsync(group, client);
            var standbys = Enumerable.Range(0, 3).Where(i => i != leader).ToArray();
            // Frozen, not dead: their sockets stay open and silent, as behind a partition.
            foreach (var standby in standbys)
                await group.Members[standby].Process!.SignalAsync("STOP");
            try
            {
                // Without a quorum the leader steps down: writes stop being acknowledged (none is answered Ok from now on).
                var refused = 0;
                await Eventually.WaitAsync(async () =>
                {
                    var key = $"b{refused}";
                    try
                    {
                        await client.SetAsync(key, key);
                        acknowledged.Add(key);
                        return false;
                    }
                    catch (KvnDbException)
                    {
                        refused++;
                        return true;
                    }
                }, TestCluster.Timeout, "the leader without a quorum refusing writes");
                // Reads too: the lease fences them as it fences writes (a later leader may have acknowledged writes its
                // node lacks). The fault tests check the stronger claim, on nodes still linked to a deposed leader.
                await Eventually.WaitAsync(async () =>
                {
                    try
                    {
                        await client.GetStringAsync("a0");
                        return false;
                    }
                    catch (KvnDbException)
                    {
                        return true;
                    }
                }, TestCluster.Timeout, "the leader without a quorum refusing reads");
                // The old leader is a standby soon, and knows no leader. (Its lease ran out first, so writes were refused
                // a moment before it stepped down; its port stays bound while its role changes.)
                var standbyNow = await Eventually.SucceedsAsync<KvnDbConnectionException, KvnDbNotLeaderException>(async () =>
                {
                    try
                    {
                        await using var direct = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Host = "127.0.0.1", Port = group.Members[leader].Port });
                    }
                    catch (KvnDbNotLeaderException ex)
                    {
                        return ex;
                    }
                    throw new KvnDbConnectionException("the leader without a quorum still takes clients");
                }, TestCluster.Timeout);
                Assert.Equal("", standbyNow.Leader);
            }
            finally
            {
                foreach (var standby in standbys)
                    await group.Members[standby].Process!.SignalAsync("CONT");
            }
            await Eventually.SucceedsAsync<KvnDbException>(async () => await client.SetAsync("after", "after"), TestCluster.Timeout);
            acknowledged.Add("after");
            await RouterCrashTests.WaitForServingAsync(client, 2);
            var values = await client.MultiGetStringsAsync(acknowledged);
            Assert.All(acknowledged.Zip(values), pair => Assert.Equal(pair.First, pair.Second));
            var digests = await client.DigestAsync();
            Assert.Single(digests.Select(d => d.Digest).Distinct());
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Fact]
    public async Task A_node_that_followed_a_later_term_refuses_a_router_leading_an_earlier_one()
    {
        await using var group = RouterGroupProcesses.Launch(3);
        using var folder = new TempDirectory();
        // As if this node had served the leader of term 1000 (a partitioned old leader would lead an earlier term).
        await File.WriteAllTextAsync(Path.Combine(folder.Path, "router-term"), "1000");
        var fenced = TestNode.Start(group.NodeOptions, new RamStorageEngine(), new NodeIdentity(folder.Path));
        var nodes = StartNodes(group, 1);
        try
        {
            await using var client = await group.ConnectAsync();
            await RouterCrashTests.WaitForServingAsync(client, 1);
            var term = (await RouterInfo.ReadAsync(client)).GetInt64("router_term");
            Assert.True(term < 1000);
            await SetAsync(client, "k", "v");
            // The fenced node keeps trying and is never linked: one node serves, the fenced one holds nothing.
            await Eventually.WaitAsync(() => fenced.Node.FencedRefusals > 0 && nodes[0].Node.ConnectionCount > 0);
            Assert.Equal(0, fenced.Node.ConnectionCount);
            Assert.Equal(0UL, fenced.Engine.LastSequence);
            Assert.Single((await RouterInfo.ReadAsync(client)).InSync);
            Assert.Equal(1000UL, fenced.Node.Identity.RouterTerm);
            Assert.Equal((ulong)term, nodes[0].Node.Identity.RouterTerm);
        }
        finally
        {
            await StopAsync([.. nodes, fenced]);
        }
    }

    /// <summary>A set retried until acknowledged: a loaded machine can let the leader's lease lapse for a moment (Unavailable, outcome unknown).</summary>
    private static Task SetAsync(KvnDbClient client, string key, string value) =>
        Eventually.SucceedsAsync<KvnDbUnavailableException>(async () => await client.SetAsync(key, value), TestCluster.Timeout);

    private static List<TestNode> StartNodes(RouterGroupProcesses group, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => TestNode.Start(group.NodeOptions, new RamStorageEngine(), new NodeIdentity(null)))];

    private static async Task StopAsync(IEnumerable<TestNode> nodes)
    {
        foreach (var node in nodes)
            await node.StopAsync();
    }

    /// <summary>The member the client is connected to once it answers (the leader: standbys take no client).</summary>
    private static async Task<int> LeaderIndexAsync(RouterGroupProcesses group, KvnDbClient client)
    {
        await Eventually.SucceedsAsync<KvnDbException>(async () => await client.PingAsync(), TestCluster.Timeout);
        var index = group.IndexOf(client.Router);
        Assert.True(index >= 0, $"connected to {client.Router}, not a member\n{group.Output}");
        return index;
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "?";
}

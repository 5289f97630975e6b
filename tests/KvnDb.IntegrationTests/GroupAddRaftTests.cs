using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;

namespace KvnDb.IntegrationTests;

/// <summary>
/// <c>kvndb groups add</c> on a router group (three router processes, <c>--raft-port</c>): the new group is in the
/// metadata the Raft log replicates, so the router that leads after the leader is killed has it, its nodes join there,
/// and slots move to it.
/// </summary>
public sealed class GroupAddRaftTests
{
    [Fact]
    public async Task A_group_added_on_a_router_group_outlives_a_failover_and_takes_slots_from_the_next_leader()
    {
        await using var group = RouterGroupProcesses.Launch(3, _ => ["--groups", "a,b"]);
        var nodes = new List<TestNode>();
        foreach (var name in (string[])["a", "b"])
            nodes.Add(TestNode.Start(group.NodeOptions with { Group = name }, new RamStorageEngine(), new NodeIdentity(null)));
        try
        {
            await using var client = await group.ConnectAsync();
            await RouterCrashTests.WaitForServingAsync(client, 2);
            var keys = Enumerable.Range(0, 200).Select(i => $"key:{i}").ToList();
            foreach (var key in keys)
                await SetAsync(client, key, "v-" + key);

            Assert.StartsWith("group c added (no slots yet)", await client.AddGroupAsync("c"));
            var info = await RouterInfo.ReadAsync(client);
            Assert.Equal("a,b,c", info["groups"]);
            var leader = group.Members.ToList().FindIndex(m => info["router_self"].EndsWith($":{m.Port}", StringComparison.Ordinal));
            Assert.True(leader >= 0, $"the leader is one of the members ({info["router_self"]})");

            await group.KillAsync(leader);
            await SetAsync(client, "after", "failover"); // acknowledged by the next leader
            var next = await RouterInfo.ReadAsync(client);
            Assert.NotEqual(info["router_self"], next["router_self"]);
            Assert.Equal("a,b,c", next["groups"]);
            Assert.StartsWith("slots=0 ", next["group_c"], StringComparison.Ordinal);

            nodes.Add(TestNode.Start(group.NodeOptions with { Group = "c" }, new RamStorageEngine(), new NodeIdentity(null)));
            await RouterCrashTests.WaitForServingAsync(client, 3);
            await Eventually.SucceedsAsync<KvnDbException>(async () => await client.MoveSlotsAsync("a", "c", 100), TestCluster.Timeout);
            await Eventually.WaitAsync(async () =>
            {
                var now = await RouterInfo.ReadAsync(client);
                return now["migration"] == "none" && now["group_c"].StartsWith("slots=100 ", StringComparison.Ordinal);
            }, TimeSpan.FromSeconds(90), "the migration to c to end");
            Assert.Equal(keys.Select(k => "v-" + k), await client.MultiGetStringsAsync(keys));
        }
        finally
        {
            foreach (var node in nodes)
                await node.StopAsync();
        }
    }

    /// <summary>A set retried until acknowledged (through the failover: the client finds the next leader).</summary>
    private static Task SetAsync(KvnDbClient client, string key, string value) =>
        Eventually.SucceedsAsync<KvnDbException>(async () => await client.SetAsync(key, value), TestCluster.Timeout);
}

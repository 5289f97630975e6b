using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using StackExchange.Redis;

namespace KvnDb.IntegrationTests;

/// <summary>
/// Router groups (issue 17) beyond the native protocol: a plain Redis client pointed at a standby is relayed to the
/// leader (<c>RespLeaderProxy</c>), <c>--advertise</c> is the address redirects and the node identity name, and
/// <c>--raft-port</c> with <c>--groups</c> keeps the slot map in the Raft log across a failover.
/// </summary>
public sealed class RouterGroupRespAndGroupsTests
{
    [Fact]
    public async Task A_redis_client_pointed_at_a_standby_is_served_by_the_leader_and_redirects_name_the_advertised_address()
    {
        // Each router advertises "localhost:PORT" while it listens on 127.0.0.1: redirects and info must say localhost.
        await using var group = RouterGroupProcesses.Launch(3, m =>
            ["--resp-port", m.RespPort.ToString(CultureInfo.InvariantCulture), "--advertise", $"localhost:{m.Port}"]);
        var nodes = StartNodes(group, 2);
        try
        {
            await using var client = await group.ConnectAsync();
            await RouterCrashTests.WaitForServingAsync(client, 2);
            var info = await RouterInfo.ReadAsync(client);
            var leader = group.Members.Single(m => info["router_self"] == $"localhost:{m.Port}");
            Assert.Equal($"localhost:{leader.Port}", info["router_leader"]);
            // Straight to the leader (its own list's address), or through a redirect, which names the advertised address.
            Assert.Contains(client.Router, (string[])[$"127.0.0.1:{leader.Port}", $"localhost:{leader.Port}"]);
            var standbys = group.Members.Where(m => m != leader).ToList();
            foreach (var standby in standbys)
            {
                var refused = await Assert.ThrowsAsync<KvnDbNotLeaderException>(() =>
                    KvnDbClient.ConnectAsync(new KvnDbClientOptions { Host = "127.0.0.1", Port = standby.Port }));
                Assert.Equal($"localhost:{leader.Port}", refused.Leader);
            }

            // Raw RESP to a standby: relayed byte for byte to the leader's RESP port.
            Assert.Equal("+PONG", await RawRespAsync(standbys[0].RespPort, "*1\r\n$4\r\nPING\r\n"));
            await using (var redis = await ConnectRedisAsync(standbys[1].RespPort))
            {
                var db = redis.GetDatabase();
                Assert.True(await db.StringSetAsync("via-standby", "relayed").WaitAsync(TestCluster.Timeout));
                Assert.Equal("relayed", (string?)await db.StringGetAsync("via-standby").WaitAsync(TestCluster.Timeout));
            }
            // Written by the leader to its nodes (write concern all): the native client reads it, every node holds it.
            Assert.Equal("relayed", await client.GetStringAsync("via-standby"));
            Assert.All(nodes, n => Assert.True(n.Engine.Exists("via-standby"u8)));

            // After a failover the standby's relay follows the new leader.
            await group.KillAsync(group.Members.ToList().IndexOf(leader));
            await SetAsync(client, "after", "failover");
            var survivor = group.Members.First(m => m != leader && !client.Router.EndsWith($":{m.Port}", StringComparison.Ordinal));
            var value = await Eventually.SucceedsAsync<Exception, string?>(async () =>
            {
                await using var redis = await ConnectRedisAsync(survivor.RespPort);
                return (string?)await redis.GetDatabase().StringGetAsync("after").WaitAsync(TestCluster.Timeout);
            }, TestCluster.Timeout);
            Assert.Equal("failover", value);
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    [Fact]
    public async Task A_router_group_with_replica_groups_keeps_its_slot_map_in_the_raft_log_across_a_failover()
    {
        await using var group = RouterGroupProcesses.Launch(3, _ => ["--groups", "a,b"]);
        var nodes = new List<TestNode>();
        foreach (var name in (string[])["a", "a", "b", "b"])
            nodes.Add(TestNode.Start(group.NodeOptions with { Group = name }, new RamStorageEngine(), new NodeIdentity(null)));
        try
        {
            await using var client = await group.ConnectAsync();
            await RouterCrashTests.WaitForServingAsync(client, 4);
            var keys = Enumerable.Range(0, 200).Select(i => $"key:{i}").ToList();
            foreach (var key in keys)
                await SetAsync(client, key, "v1-" + key);
            var before = await RouterInfo.ReadAsync(client);
            Assert.Equal("a,b", before["groups"]);
            Assert.Equal("0-8191=a 8192-16383=b", before["slot_map"]);

            // Every router restarted in turn with a third group: a group added later owns no slot (the stored map rules),
            // so a router that took the map from anywhere but the replicated metadata would split the slots three ways.
            group.ExtraArguments = _ => ["--groups", "a,b,c"];
            for (var i = 0; i < 3; i++)
            {
                await group.KillAsync(i);
                group.Start(i);
                await SetAsync(client, "rolling", i.ToString(CultureInfo.InvariantCulture));
            }
            await RouterCrashTests.WaitForServingAsync(client, 4);
            var after = await RouterInfo.ReadAsync(client);
            Assert.Equal("a,b,c", after["groups"]);
            Assert.Equal(before["slot_map"], after["slot_map"]);
            Assert.StartsWith("slots=0 ", after["group_c"], StringComparison.Ordinal);
            var values = await client.MultiGetStringsAsync(keys);
            Assert.Equal(keys.Select(k => "v1-" + k), values);
            foreach (var key in keys)
                await SetAsync(client, key, "v2-" + key);
            Assert.Equal(keys.Select(k => "v2-" + k), await client.MultiGetStringsAsync(keys));
            var digests = await client.DigestAsync();
            Assert.Equal(4, digests.Count(d => d.State == NodeState.Serving));
        }
        finally
        {
            await StopAsync(nodes);
        }
    }

    /// <summary>
    /// A set retried until acknowledged: through a failover, and past a moment when the leader's lease lapsed on a loaded
    /// machine (Unavailable, outcome unknown: the same set again is harmless).
    /// </summary>
    private static Task SetAsync(KvnDbClient client, string key, string value) =>
        Eventually.SucceedsAsync<KvnDbException>(async () => await client.SetAsync(key, value), TestCluster.Timeout);

    private static async Task<string> RawRespAsync(int port, string command)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var timeout = new CancellationTokenSource(TestCluster.Timeout);
        await socket.ConnectAsync(IPAddress.Loopback, port, timeout.Token);
        await socket.SendAsync(Encoding.ASCII.GetBytes(command), timeout.Token);
        var buffer = new byte[256];
        var line = new StringBuilder();
        while (!line.ToString().EndsWith("\r\n", StringComparison.Ordinal))
        {
            var read = await socket.ReceiveAsync(buffer, timeout.Token);
            if (read == 0)
                break;
            line.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }
        return line.ToString().TrimEnd('\r', '\n');
    }

    private static async Task<ConnectionMultiplexer> ConnectRedisAsync(int port)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { new IPEndPoint(IPAddress.Loopback, port) },
            AbortOnConnectFail = true,
            ConnectTimeout = 10_000,
            SyncTimeout = 20_000,
            AsyncTimeout = 20_000,
        };
        return await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(TestCluster.Timeout);
    }

    private static List<TestNode> StartNodes(RouterGroupProcesses group, int count) =>
        [.. Enumerable.Range(0, count).Select(_ => TestNode.Start(group.NodeOptions, new RamStorageEngine(), new NodeIdentity(null)))];

    private static async Task StopAsync(IEnumerable<TestNode> nodes)
    {
        foreach (var node in nodes)
            await node.StopAsync();
    }
}

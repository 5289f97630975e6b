using KvnDb.Client;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

public sealed class AvailabilityTests
{
    [Fact]
    public async Task Without_nodes_reads_and_writes_fail_fast_with_unavailable()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0);
        await using var client = await cluster.ConnectAsync();
        var set = await Assert.ThrowsAsync<KvnDbUnavailableException>(async () => await client.SetAsync("k", "v"));
        Assert.Contains("no database node", set.Message);
        await Assert.ThrowsAsync<KvnDbUnavailableException>(async () => await client.GetStringAsync("k"));
        await Assert.ThrowsAsync<KvnDbUnavailableException>(async () => await client.DeleteAsync("k"));
        await Assert.ThrowsAsync<KvnDbUnavailableException>(async () =>
        {
            await foreach (var _ in client.ListKeyStringsAsync())
            {
            }
        });
        Assert.True(await client.PingAsync() > TimeSpan.Zero); // the router itself still answers
    }

    [Fact]
    public async Task Reads_in_flight_when_a_node_dies_are_retried_on_another_node()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var client = await cluster.ConnectAsync();
        const int keys = 500;
        for (var i = 0; i < keys; i++)
            await client.SetAsync($"k{i}", $"v{i}");

        var readsDone = new AwaitableCounter();
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 16).Select(r => Task.Run(async () =>
        {
            var random = new Random(r);
            while (!stop.IsCancellationRequested)
            {
                var i = random.Next(keys);
                Assert.Equal($"v{i}", await client.GetStringAsync($"k{i}"));
                readsDone.Increment();
            }
        })).ToArray();
        readsDone.Observe(readers); // a failed read fails the wait at once

        await readsDone.WaitForAsync(2001, TestCluster.Timeout);
        await cluster.Nodes[0].StopAsync();
        var afterKill = readsDone.Value;
        await readsDone.WaitForAsync(afterKill + 2001, TestCluster.Timeout);
        await stop.CancelAsync();
        await Task.WhenAll(readers).WaitAsync(TestCluster.Timeout);
        Assert.Equal(1, cluster.Router.ServingNodeCount);
    }

    [Fact]
    public async Task Writes_in_flight_when_a_node_dies_complete_on_the_survivor()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var client = await cluster.ConnectAsync();
        var written = new AwaitableCounter();
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < 3000; i++)
            {
                await client.SetAsync($"w{i}", $"{i}");
                written.Increment();
            }
        });
        written.Observe(writer);
        await written.WaitForAsync(501, TestCluster.Timeout);
        await cluster.Nodes[1].StopAsync();
        await writer.WaitAsync(TestCluster.Timeout);
        for (var i = 0; i < 3000; i += 7)
            Assert.Equal($"{i}", await client.GetStringAsync($"w{i}"));
    }

    [Fact]
    public async Task Nodes_reconnect_after_the_router_restarts_and_sequences_keep_rising()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using (var client = await cluster.ConnectAsync())
        {
            for (var i = 0; i < 100; i++)
                await client.SetAsync($"k{i}", "before");
        }
        var sequenceBefore = cluster.Router.Cluster.Sequence;
        Assert.Equal(100UL, sequenceBefore);

        await cluster.RestartRouterAsync();
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        // The new router resumes above what the nodes hold.
        Assert.Equal(sequenceBefore, cluster.Router.Cluster.Sequence);

        await using var after = await cluster.ConnectAsync();
        Assert.Equal("before", await after.GetStringAsync("k42"));
        await after.SetAsync("k42", "after");
        Assert.Equal("after", await after.GetStringAsync("k42"));
        Assert.All(cluster.Nodes, n => Assert.Equal(sequenceBefore + 1, n.Engine.LastSequence));
    }

    [Fact]
    public async Task A_client_reconnects_by_itself_after_the_router_restarts()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("k", "v");
        await cluster.RestartRouterAsync();
        await cluster.Router.WaitForServingNodesAsync(1, TestCluster.Timeout);
        // A call may see the old connection's death (and fails fast while the client reconnects in the background).
        try
        {
            await client.GetStringAsync("k");
        }
        catch (KvnDbConnectionException)
        {
            await client.WaitUntilConnectedAsync().WaitAsync(TestCluster.Timeout);
        }
        Assert.Equal("v", await client.GetStringAsync("k"));
    }

    [Fact]
    public async Task Requests_time_out_with_a_typed_exception()
    {
        // A node that never answers: a raw socket that registers as a node and then stays silent.
        await using var cluster = await TestCluster.StartAsync(nodes: 0);
        using var silentNode = await RawConnection.ConnectAsync(cluster.Router.Port);
        await silentNode.SendHelloAsync(role: KvnDb.Protocol.ConnectionRole.Node);
        await silentNode.ReadFrameAsync(); // hello reply
        await silentNode.ReadFrameAsync(); // SyncBegin
        var syncEnd = (await silentNode.ReadFrameAsync())!.Value.Header;
        Assert.Equal(KvnDb.Protocol.Opcode.SyncEnd, syncEnd.Opcode);
        await silentNode.SendAsync(Frame(new KvnDb.Protocol.FrameHeader(0, syncEnd.Opcode, KvnDb.Protocol.FrameFlags.Response, KvnDb.Protocol.StatusCode.Ok, syncEnd.RequestId)));
        await cluster.Router.WaitForServingNodesAsync(1, TestCluster.Timeout);
        await using var client = await cluster.ConnectAsync(requestTimeout: TimeSpan.FromMilliseconds(300));
        await Assert.ThrowsAsync<KvnDbTimeoutException>(async () => await client.GetStringAsync("k"));
        Assert.True(await client.PingAsync() > TimeSpan.Zero);
    }

    private static byte[] Frame(KvnDb.Protocol.FrameHeader header)
    {
        var bytes = new byte[KvnDb.Protocol.ProtocolLimits.HeaderSize];
        header.Write(bytes);
        return bytes;
    }
}

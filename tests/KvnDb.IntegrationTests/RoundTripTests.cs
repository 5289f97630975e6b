using System.Text;
using KvnDb.Client;
using KvnDb.Protocol;

namespace KvnDb.IntegrationTests;

public sealed class RoundTripTests
{
    private static ReadOnlyMemory<byte> B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public async Task Every_operation_round_trips_through_router_and_two_nodes()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var client = await cluster.ConnectAsync();

        Assert.True((await client.PingAsync()) > TimeSpan.Zero);
        Assert.Null(await client.GetStringAsync("missing"));
        Assert.False(await client.ExistsAsync("missing"));

        await client.SetAsync("alpha", "1");
        await client.SetAsync(B("beta"), B("two"));
        await client.SetAsync("empty", "");
        Assert.Equal("1", await client.GetStringAsync("alpha"));
        Assert.Equal("two", Encoding.UTF8.GetString((await client.GetAsync(B("beta")))!));
        Assert.Equal("", await client.GetStringAsync("empty"));
        Assert.True(await client.ExistsAsync("alpha"));

        await client.MultiSetStringsAsync([new("m1", "x"), new("m2", "y")]);
        Assert.Equal(new string?[] { "x", null, "y" }, await client.MultiGetStringsAsync(["m1", "nope", "m2"]));

        var keys = new List<string>();
        await foreach (var key in client.ListKeyStringsAsync())
            keys.Add(key);
        Assert.Equal(["alpha", "beta", "empty", "m1", "m2"], keys.Order());

        var prefixed = new List<string>();
        await foreach (var key in client.ListKeyStringsAsync("m"))
            prefixed.Add(key);
        Assert.Equal(["m1", "m2"], prefixed.Order());

        Assert.True(await client.DeleteAsync("alpha"));
        Assert.False(await client.DeleteAsync("alpha"));
        Assert.Null(await client.GetStringAsync("alpha"));

        await client.SetAsync("one", "1", WriteConcern.One);
        await client.SetAsync("none", "n", WriteConcern.None);
        Assert.Equal("1", await client.GetStringAsync("one"));

        Assert.Equal(2, (await RouterInfo.ReadAsync(client)).NodesServing);
    }

    [Fact]
    public async Task Key_listing_streams_many_chunks()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        await using var client = await cluster.ConnectAsync();
        var pairs = Enumerable.Range(0, 5000).Select(i => KeyValuePair.Create($"k{i:D5}", "v")).ToArray();
        foreach (var batch in pairs.Chunk(500))
            await client.MultiSetStringsAsync(batch);
        var listed = new HashSet<string>();
        await foreach (var key in client.ListKeyStringsAsync("k"))
            Assert.True(listed.Add(key));
        Assert.Equal(5000, listed.Count);
    }

    [Fact]
    public async Task A_write_acknowledged_under_all_is_readable_from_each_node_alone()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var client = await cluster.ConnectAsync();
        for (var i = 0; i < 200; i++)
            await client.SetAsync($"key{i}", $"value{i}");

        // Each node holds every acknowledged write by itself, without asking the router.
        foreach (var node in cluster.Nodes)
            for (var i = 0; i < 200; i++)
            {
                Assert.True(node.Engine.TryGet(Encoding.UTF8.GetBytes($"key{i}"), out var stored));
                Assert.Equal($"value{i}", Encoding.UTF8.GetString(stored.Value.Span));
            }

        // And through the router with only one node left, either one.
        await cluster.Nodes[0].StopAsync();
        await Eventually.WaitAsync(() => cluster.Router.ServingNodeCount == 1);
        for (var i = 0; i < 200; i++)
            Assert.Equal($"value{i}", await client.GetStringAsync($"key{i}"));
    }
}

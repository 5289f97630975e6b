using KvnDb.Client;
using KvnDb.Protocol;

namespace KvnDb.IntegrationTests;

/// <summary>A node's answer to every sequenced write acknowledges it, an evaluated InvalidValue included.</summary>
public sealed class NodeAcknowledgementTests
{
    [Fact]
    public async Task Writes_answered_InvalidValue_count_as_acknowledged_so_a_node_never_lags_behind_them()
    {
        // Found while verifying node replies: InvalidValue answers did not advance a node's acknowledged position,
        // so its lag grew by one per refused increment (and a join waiting for it to catch up could wait forever).
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("text", "not a number");
        for (var i = 0; i < 3; i++)
        {
            var refused = await Assert.ThrowsAnyAsync<KvnDbException>(async () => await client.IncrementAsync("text"));
            Assert.Equal(StatusCode.InvalidValue, refused.Status);
        }
        await client.SetAsync("after", "v");
        await Eventually.WaitAsync(async () =>
        {
            var info = await RouterInfo.ReadAsync(client);
            return info.Nodes.Count == 2 && info.Nodes.All(n => ulong.Parse(n["acked"], System.Globalization.CultureInfo.InvariantCulture) == info.Sequence);
        }, what: "every node acknowledged through the router's sequence");
    }
}

using KvnDb.Router;

namespace KvnDb.IntegrationTests;

/// <summary>
/// A joiner is silent while it applies a snapshot chunk (found by a chaos round at load 25: a dir-engine joiner took
/// 3.5 s per chunk and was evicted for silence at 3 s, mid-chunk, at every attempt, so it never finished its sync).
/// </summary>
public sealed class SlowJoinerTests
{
    [Fact]
    public async Task A_joiner_silent_while_it_applies_a_snapshot_chunk_is_not_evicted_and_finishes_its_sync()
    {
        var options = new RouterOptions
        {
            Heartbeat = TimeSpan.FromMilliseconds(100),
            NodeTimeout = TimeSpan.FromMilliseconds(500),
            NodeEvictTimeout = TimeSpan.FromSeconds(1),
            BacklogBytes = 1024, // too small to replay the writes below: the joiner takes a full sync, chunk by chunk
        };
        await using var cluster = await TestCluster.StartAsync(nodes: 1, options);
        await using var client = await cluster.ConnectAsync();
        for (var i = 0; i < 100; i++)
            await client.SetAsync($"k{i}", new string('v', 64));

        // It acknowledges its chunk only once the router has heard nothing from it for more than twice the eviction timeout.
        await using var joiner = await HostileNode.ConnectAsync(cluster.Router.Port);
        joiner.BeforeSnapshotAck = () => Eventually.WaitAsync(() => LongestSilenceMs(cluster.Router.Info) > 2 * options.NodeEvictTimeout.TotalMilliseconds,
            what: "the router seeing the joiner silent past twice the eviction timeout");

        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        Assert.False(joiner.Closed.IsCompleted, "the router dropped the busy joiner");
        Assert.DoesNotContain("silent for", cluster.Router.Info, StringComparison.Ordinal);
    }

    private static long LongestSilenceMs(string info) =>
        System.Text.RegularExpressions.Regex.Matches(info, @"silent_ms=(\d+)").Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).DefaultIfEmpty(0).Max();
}

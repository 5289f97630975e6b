using KvnDb.Router;

namespace KvnDb.IntegrationTests.Resp;

/// <summary>
/// Issue 16: RESP DEL, EXISTS and MGET with many keys once sent one native request per key and four of them filled
/// the router-wide table, so every other client got Busy. Each is one request now (a Batch, or one MultiGet), and
/// counts once against the client's window and the router-wide table.
/// </summary>
public sealed class MultiKeyInFlightTests
{
    private const int Keys = 20_000;

    [Fact]
    public async Task Commands_with_thousands_of_keys_take_one_slot_each_and_leave_room_for_others()
    {
        // Room for the four commands and one more request: any command that took a slot per key would fill it.
        await using var cluster = await RespCluster.StartAsync(options: new RouterOptions { MaxPendingRequests = 8 });
        await using var native = await cluster.ConnectAsync();
        await native.SetAsync("k", "v");
        var keys = Enumerable.Range(0, Keys).Select(i => $"key{i}").ToArray();

        await using var del = await RawRespClient.ConnectAsync(cluster.RespPort());
        await using var exists = await RawRespClient.ConnectAsync(cluster.RespPort());
        await using var mget = await RawRespClient.ConnectAsync(cluster.RespPort());
        await using var unlink = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal("OK", await del.CallAsync("MSET", "key0", "a", $"key{Keys - 1}", "b"));

        var maxPending = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                maxPending = Math.Max(maxPending, cluster.Router.Cluster.PendingRequests);
                await Task.Yield();
            }
        });
        var commands = new[]
        {
            exists.CallAsync(["EXISTS", .. keys]),
            mget.CallAsync(["MGET", .. keys]),
            del.CallAsync(["DEL", .. keys]),
            unlink.CallAsync(["UNLINK", .. keys]),
        };
        // Meanwhile another client is served, never Busy.
        for (var i = 0; i < 50; i++)
            Assert.Equal("v", await native.GetStringAsync("k"));
        var replies = await Task.WhenAll(commands).WaitAsync(TestCluster.Timeout);
        await stop.CancelAsync();
        await sampler;

        Assert.InRange((long)replies[0]!, 0, 2);
        var values = (object?[])replies[1]!;
        Assert.Equal(Keys, values.Length);
        Assert.Equal(2L, (long)replies[2]! + (long)replies[3]!); // both keys deleted once, by whichever ran first
        Assert.InRange(maxPending, 1, 4 + 1 + cluster.Nodes.Count);
        Assert.Null(await del.CallAsync("GET", "key0"));
    }
}

using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;

namespace KvnDb.IntegrationTests;

public sealed class RouterCrashTests
{
    [Fact]
    public async Task Router_killed_and_restarted_during_writes_loses_no_acknowledged_write_and_replicas_agree()
    {
        var port = ChildProcess.FreePort();
        using var routerData = new TempDirectory();
        var router = ChildProcess.Start("Router", "kvndb-router", "--port", port.ToString(), "--data", routerData.Path);
        var nodeOptions = new NodeOptions { RouterPort = port, MaxReconnectDelay = TimeSpan.FromMilliseconds(300) };
        var nodes = Enumerable.Range(0, 2).Select(_ => TestNode.Start(nodeOptions, new RamStorageEngine(), new NodeIdentity(null))).ToList();
        try
        {
            var options = new KvnDbClientOptions { Port = port, RequestTimeout = TimeSpan.FromSeconds(3), ConnectTimeout = TimeSpan.FromSeconds(3) };
            await using var client = await ConnectWithRetryAsync(options);
            await WaitForServingAsync(client, 2);

            var acknowledged = new List<string>();
            using var stop = new CancellationTokenSource();
            var writer = Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var key = $"w{i}";
                    while (true)
                    {
                        try
                        {
                            await client.SetAsync(key, key);
                            lock (acknowledged)
                                acknowledged.Add(key);
                            break;
                        }
                        catch (KvnDbException)
                        {
                            await Task.Delay(50); // router down or no node serving yet: retry the same write
                        }
                    }
                }
            });

            await RoundTripTests.WaitUntil(() => { lock (acknowledged) return acknowledged.Count > 300; });
            await router.KillAsync();
            router = ChildProcess.Start("Router", "kvndb-router", "--port", port.ToString(), "--data", routerData.Path);
            await RoundTripTests.WaitUntil(() => { lock (acknowledged) return acknowledged.Count > 600; });
            await stop.CancelAsync();
            await writer.WaitAsync(TestCluster.Timeout);

            await WaitForServingAsync(client, 2);
            string[] written;
            lock (acknowledged)
                written = [.. acknowledged];
            var values = await client.MultiGetStringsAsync(written);
            Assert.All(written.Zip(values), pair => Assert.Equal(pair.First, pair.Second));

            var digests = await client.DigestAsync();
            Assert.Equal(2, digests.Count(d => d.State == NodeState.Serving));
            Assert.Single(digests.Select(d => d.Digest).Distinct());
        }
        finally
        {
            foreach (var node in nodes)
                await node.StopAsync();
            await router.DisposeAsync();
        }
    }

    internal static async Task<KvnDbClient> ConnectWithRetryAsync(KvnDbClientOptions options)
    {
        var deadline = DateTime.UtcNow + TestCluster.Timeout;
        while (true)
        {
            try
            {
                return await KvnDbClient.ConnectAsync(options);
            }
            catch (KvnDbConnectionException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    internal static async Task WaitForServingAsync(KvnDbClient client, int count)
    {
        var deadline = DateTime.UtcNow + TestCluster.Timeout;
        while (true)
        {
            try
            {
                if ((await client.InfoAsync()).Contains($"nodes_serving: {count}\n"))
                    return;
            }
            catch (KvnDbException) when (DateTime.UtcNow < deadline)
            {
            }
            Assert.True(DateTime.UtcNow < deadline, $"{count} serving nodes not reached in time");
            await Task.Delay(50);
        }
    }
}

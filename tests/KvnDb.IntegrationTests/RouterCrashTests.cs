using System.Globalization;
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
        // A fixed port, because the restarted router must be found where the nodes and the client look.
        var port = ChildProcess.FreePort();
        using var routerData = new TempDirectory();
        string[] routerArguments = ["--port", port.ToString(CultureInfo.InvariantCulture), "--data", routerData.Path];
        var router = ChildProcess.StartProgram("Router", "kvndb-router", routerArguments);
        var nodeOptions = new NodeOptions { RouterPort = port, MaxReconnectDelay = TimeSpan.FromMilliseconds(300) };
        var nodes = Enumerable.Range(0, 2).Select(_ => TestNode.Start(nodeOptions, new RamStorageEngine(), new NodeIdentity(null))).ToList();
        try
        {
            var options = new KvnDbClientOptions { Port = port, RequestTimeout = TimeSpan.FromSeconds(3), ConnectTimeout = TimeSpan.FromSeconds(3) };
            await using var client = await ConnectWithRetryAsync(options);
            await WaitForServingAsync(client, 2);

            var acknowledged = new List<string>();
            var count = new AwaitableCounter();
            using var stop = new CancellationTokenSource();
            var writer = Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var key = $"w{i}";
                    // Router down or no node serving yet: retry the same write until it is acknowledged.
                    await Eventually.SucceedsAsync<KvnDbException>(async () => await client.SetAsync(key, key));
                    lock (acknowledged)
                        acknowledged.Add(key);
                    count.Increment();
                }
            });

            count.Observe(writer);
            await count.WaitForAsync(301, Eventually.DefaultTimeout);
            await router.KillAsync();
            await router.DisposeAsync();
            router = ChildProcess.StartProgram("Router", "kvndb-router", routerArguments);
            await count.WaitForAsync(601, Eventually.DefaultTimeout);
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

    internal static Task<KvnDbClient> ConnectWithRetryAsync(KvnDbClientOptions options) =>
        Eventually.SucceedsAsync<KvnDbConnectionException, KvnDbClient>(() => KvnDbClient.ConnectAsync(options), TestCluster.Timeout);

    /// <summary>Waits until the router (maybe restarting: its errors count as not yet) reports <paramref name="count"/> serving nodes.</summary>
    internal static Task WaitForServingAsync(KvnDbClient client, int count) =>
        Eventually.WaitAsync(async () =>
        {
            try
            {
                return (await RouterInfo.ReadAsync(client)).NodesServing == count;
            }
            catch (KvnDbException)
            {
                return false;
            }
        }, TestCluster.Timeout, $"{count} serving nodes");
}

namespace KvnDb.IntegrationTests;

public sealed class InlineSchedulingTests
{
    [Fact]
    public async Task With_socket_work_inline_the_queued_node_flushes_send_every_write_of_many_clients()
    {
        // --inline-io: a flush sends on the calling thread, so node senders queue one flush per batch instead
        // (NodeSender.FlushBatch). A lost flush would leave a write unsent and its caller waiting: every one must return.
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new KvnDb.Router.RouterOptions { InlineIo = true });
        var clients = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => cluster.ConnectAsync()));
        try
        {
            await Task.WhenAll(clients.Select((client, c) => Task.Run(async () =>
            {
                for (var i = 0; i < 300; i++)
                    await client.SetAsync($"c{c}:k{i}", $"{c}-{i}");
            }))).WaitAsync(TimeSpan.FromMinutes(2));

            Assert.Equal(2, cluster.Router.ServingNodeCount);
            for (var c = 0; c < clients.Length; c++)
            {
                var keys = Enumerable.Range(0, 300).Select(i => $"c{c}:k{i}").ToArray();
                Assert.Equal(Enumerable.Range(0, 300).Select(i => $"{c}-{i}"), await clients[c].MultiGetStringsAsync(keys));
            }
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }
}

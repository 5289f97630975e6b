using System.Collections.Concurrent;
using KvnDb.Client;
using KvnDb.Protocol;

namespace KvnDb.IntegrationTests;

/// <summary>
/// Writes evaluated by the nodes at apply time, through the router with several nodes: atomic under
/// concurrency with no lock, identical on every replica (digests), in order on one connection.
/// </summary>
public sealed class CommandTests
{
    [Fact]
    public async Task Sixteen_clients_incrementing_a_thousand_times_count_exactly_and_every_node_agrees()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3);
        var clients = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => cluster.ConnectAsync()));
        try
        {
            var last = new ConcurrentBag<long>();
            await Task.WhenAll(clients.Select(client => Task.Run(async () =>
            {
                for (var i = 0; i < 1000; i++)
                    last.Add(await client.IncrementAsync("counter"));
            }))).WaitAsync(TimeSpan.FromMinutes(3));

            Assert.Equal("16000", await clients[0].GetStringAsync("counter"));
            // Every increment saw a distinct value: none was lost or applied twice.
            Assert.Equal(16_000, last.Distinct().Count());
            Assert.Equal(16_000, last.Max());
            await AssertDigestsAgreeAsync(clients[0], nodes: 3);
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Sixteen_clients_racing_set_if_absent_have_exactly_one_winner_in_each_of_a_hundred_rounds()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        var clients = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => cluster.ConnectAsync()));
        try
        {
            for (var round = 0; round < 100; round++)
            {
                var key = $"lock{round}";
                var results = await Task.WhenAll(clients.Select((client, i) =>
                    client.SetAsync(key, $"owner{i}", When.NotExists).AsTask())).WaitAsync(TestCluster.Timeout);
                var winners = results.Select((r, i) => (r, i)).Where(x => x.r.Written).ToList();
                Assert.Single(winners);
                Assert.Equal($"owner{winners[0].i}", await clients[0].GetStringAsync(key));
                // The losers learn the winner's version: the key's version is the winning write's sequence.
                Assert.All(results.Where(r => !r.Written), r => Assert.Equal(winners[0].r.Version, r.Version));
            }
            await AssertDigestsAgreeAsync(clients[0], nodes: 2);
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Compare_and_set_loops_from_eight_clients_lose_no_update()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        var clients = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => cluster.ConnectAsync()));
        try
        {
            const int updatesEach = 100;
            var retries = 0;
            await Task.WhenAll(clients.Select(client => Task.Run(async () =>
            {
                for (var i = 0; i < updatesEach; i++)
                {
                    while (true)
                    {
                        var current = await client.GetWithVersionAsync("cas");
                        var next = (current is null ? 0 : int.Parse(System.Text.Encoding.UTF8.GetString(current.Value), System.Globalization.CultureInfo.InvariantCulture)) + 1;
                        var result = await client.CompareAndSetAsync("cas", current?.Version ?? 0, next.ToString(System.Globalization.CultureInfo.InvariantCulture));
                        if (result.Written)
                            break;
                        Interlocked.Increment(ref retries);
                    }
                }
            }))).WaitAsync(TimeSpan.FromMinutes(3));

            Assert.Equal((8 * updatesEach).ToString(System.Globalization.CultureInfo.InvariantCulture), await clients[0].GetStringAsync("cas"));
            await AssertDigestsAgreeAsync(clients[0], nodes: 2);
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_transaction_whose_guard_fails_changes_nothing_on_any_node_and_one_whose_guards_hold_applies_all()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 3);
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("a", "1");
        await client.SetAsync("b", "10");
        var a = await client.GetWithVersionAsync("a");
        await client.SetAsync("a", "2"); // a concurrent writer: the version read above is stale
        var before = await client.DigestAsync();

        var failed = await client.TransactionAsync(tx => tx
            .RequireAbsent("c")
            .RequireVersion("a", a!.Version)
            .Set("c", "new")
            .Increment("b", 5)
            .Delete("a"));

        Assert.False(failed.Committed);
        Assert.Equal(1, failed.FailedGuard);
        var after = await client.DigestAsync();
        Assert.Equal(before.Select(d => (d.Digest.KeyCount, d.Digest.ContentHash)), after.Select(d => (d.Digest.KeyCount, d.Digest.ContentHash)));
        foreach (var node in cluster.Nodes)
        {
            Assert.False(node.Engine.Exists("c"u8));
            Assert.True(node.Engine.Exists("a"u8));
        }

        // An operation failing at apply time (not a number) also changes nothing anywhere.
        var bad = await Assert.ThrowsAsync<KvnDbException>(async () => await client.TransactionAsync(tx => tx.Set("c", "x").Increment("a", 1).Increment("c", 1)));
        Assert.Equal(StatusCode.InvalidValue, bad.Status);
        Assert.Null(await client.GetStringAsync("c"));

        var fresh = await client.GetWithVersionAsync("a");
        var done = await client.TransactionAsync(tx => tx
            .RequireAbsent("c")
            .RequireVersion("a", fresh!.Version)
            .Set("c", "new")
            .Increment("b", 5)
            .Increment("b", 1)
            .GetDelete("a"));
        Assert.True(done.Committed);
        Assert.Equal(15, done.Results[1].Number);
        Assert.Equal(16, done.Results[2].Number);
        Assert.Equal("2", System.Text.Encoding.UTF8.GetString(done.Results[3].Value!));
        // One sequence for the whole batch: every key it wrote carries the same version.
        Assert.Equal(done.Results[1].Version, (await client.GetWithVersionAsync("c"))!.Version);
        Assert.Null(await client.GetStringAsync("a"));
        Assert.Equal("16", await client.GetStringAsync("b"));
        await AssertDigestsAgreeAsync(client, nodes: 3);
    }

    [Fact]
    public async Task Pipelined_conditional_writes_on_one_connection_keep_their_order()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var client = await cluster.ConnectAsync();
        for (var round = 0; round < 50; round++)
        {
            var key = $"p{round}";
            // Sent back to back without awaiting: one connection, in this order.
            var first = client.SetAsync(key, "0").AsTask();
            var second = client.SetAsync(key, "1", When.Exists).AsTask();
            var third = client.SetAsync(key, "2").AsTask();
            await Task.WhenAll(first, second, third).WaitAsync(TestCluster.Timeout);
            Assert.True((await second).Written);
            Assert.Equal("2", await client.GetStringAsync(key));

            var delete = client.DeleteAsync(key).AsTask();
            var setIfAbsent = client.SetAsync(key, "1", When.NotExists).AsTask();
            var deleteAgain = client.DeleteAsync(key).AsTask();
            await Task.WhenAll(delete, setIfAbsent, deleteAgain).WaitAsync(TestCluster.Timeout);
            Assert.True((await setIfAbsent).Written);
            Assert.Null(await client.GetStringAsync(key));
        }
        await AssertDigestsAgreeAsync(client, nodes: 2);
    }

    [Fact]
    public async Task Counters_strings_and_their_errors_are_decided_alike_on_every_node()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var client = await cluster.ConnectAsync();

        Assert.Equal(-3, await client.IncrementAsync("n", -3));
        await client.SetAsync("text", "abc");
        var notNumber = await Assert.ThrowsAsync<KvnDbException>(async () => await client.IncrementAsync("text"));
        Assert.Equal(StatusCode.InvalidValue, notNumber.Status);
        Assert.Contains("not an integer", notNumber.Message);
        await client.SetAsync("max", long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var overflow = await Assert.ThrowsAsync<KvnDbException>(async () => await client.IncrementAsync("max"));
        Assert.Contains("overflow", overflow.Message);
        await client.SetAsync("spaced", " 1");
        await Assert.ThrowsAsync<KvnDbException>(async () => await client.IncrementAsync("spaced"));

        await client.SetAsync("f", "10.50");
        Assert.Equal(10.6, await client.IncrementFloatAsync("f", 0.1));
        Assert.Equal("10.6", await client.GetStringAsync("f"));
        Assert.Equal(5.0e3 + 10.6, await client.IncrementFloatAsync("f", 5.0e3));
        var notFloat = await Assert.ThrowsAsync<KvnDbException>(async () => await client.IncrementFloatAsync("text", 1));
        Assert.Equal(StatusCode.InvalidValue, notFloat.Status);

        Assert.Equal(5, await client.AppendAsync("s", "Hello"));
        Assert.Equal(11, await client.AppendAsync("s", " World"));
        Assert.Equal(11, await client.SetRangeAsync("s", 6, "Redis"));
        Assert.Equal("Hello Redis", await client.GetStringAsync("s"));
        Assert.Equal(8, await client.SetRangeAsync("padded", 3, "abcde"));
        Assert.Equal("\0\0\0abcde", await client.GetStringAsync("padded"));
        Assert.Equal(0, await client.SetRangeAsync("never", 3, ""));
        Assert.False(await client.ExistsAsync("never"));

        Assert.Equal("Hello Redis", await client.GetDeleteAsync("s"));
        Assert.Null(await client.GetDeleteAsync("s"));

        var old = await client.SetAsync("g", "first", When.Always, returnOldValue: true);
        Assert.Null(old.OldValue);
        old = await client.SetAsync("g", "second", When.Always, returnOldValue: true);
        Assert.Equal("first", System.Text.Encoding.UTF8.GetString(old.OldValue!));
        Assert.False((await client.SetAsync("g", "third", When.NotExists)).Written);
        Assert.False((await client.SetAsync("missing", "x", When.Exists)).Written);
        Assert.False(await client.ExistsAsync("missing"));
        await AssertDigestsAgreeAsync(client, nodes: 2);
    }

    internal static async Task AssertDigestsAgreeAsync(KvnDbClient client, int nodes)
    {
        var digests = await client.DigestAsync();
        Assert.Equal(nodes, digests.Count(d => d.State == NodeState.Serving));
        Assert.Single(digests.Select(d => d.Digest).Distinct());
    }
}

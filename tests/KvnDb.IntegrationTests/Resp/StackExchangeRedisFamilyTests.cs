using System.Net;
using StackExchange.Redis;

namespace KvnDb.IntegrationTests.Resp;

/// <summary>StackExchange.Redis's transactions, expiry, pub/sub and lock API through the RESP port of a router with two nodes.</summary>
public sealed class StackExchangeRedisFamilyTests
{
    private static async Task<ConnectionMultiplexer> ConnectAsync(TestCluster cluster, RedisProtocol protocol = RedisProtocol.Resp2)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { new IPEndPoint(IPAddress.Loopback, cluster.RespPort()) },
            Protocol = protocol,
            AbortOnConnectFail = true,
            ConnectTimeout = 10_000,
            SyncTimeout = 20_000,
            AsyncTimeout = 20_000,
            AllowAdmin = true,
        };
        return await ConnectionMultiplexer.ConnectAsync(options).WaitAsync(TestCluster.Timeout);
    }

    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task Transactions_with_conditions_commit_or_roll_back(RedisProtocol protocol)
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var redis = await ConnectAsync(cluster, protocol);
        var db = redis.GetDatabase();
        var t = TestCluster.Timeout;
        Assert.True(await db.StringSetAsync("balance", "10").WaitAsync(t));

        var transaction = db.CreateTransaction();
        transaction.AddCondition(Condition.StringEqual("balance", "10"));
        var decrement = transaction.StringDecrementAsync("balance", 3);
        var log = transaction.StringAppendAsync("log", "-3;");
        Assert.True(await transaction.ExecuteAsync().WaitAsync(t));
        Assert.Equal(7, await decrement.WaitAsync(t));
        Assert.Equal(3, await log.WaitAsync(t));

        var stale = db.CreateTransaction();
        stale.AddCondition(Condition.StringEqual("balance", "10"));
        _ = stale.StringDecrementAsync("balance", 3);
        Assert.False(await stale.ExecuteAsync().WaitAsync(t));
        Assert.Equal("7", (string?)await db.StringGetAsync("balance").WaitAsync(t));

        // A guard on one key, a write to another: the guard alone decides.
        var absent = db.CreateTransaction();
        absent.AddCondition(Condition.KeyNotExists("reservation"));
        _ = absent.StringSetAsync("reserved-by", "me");
        _ = absent.StringIncrementAsync("reservations");
        Assert.True(await absent.ExecuteAsync().WaitAsync(t));
        Assert.Equal("me", (string?)await db.StringGetAsync("reserved-by").WaitAsync(t));
        Assert.Equal("1", (string?)await db.StringGetAsync("reservations").WaitAsync(t));
    }

    [Fact]
    public async Task Racing_optimistic_transactions_commit_each_value_once()
    {
        await using var cluster = await RespCluster.StartAsync();
        var connections = new List<ConnectionMultiplexer>();
        for (var i = 0; i < 4; i++)
            connections.Add(await ConnectAsync(cluster, i % 2 == 0 ? RedisProtocol.Resp2 : RedisProtocol.Resp3));
        try
        {
            var t = TestCluster.Timeout;
            Assert.True(await connections[0].GetDatabase().StringSetAsync("cas", "0").WaitAsync(t));
            // Compare-and-set increments: read, then commit only if nobody wrote in between; retry when refused.
            var histories = await Task.WhenAll(connections.Select(async connection =>
            {
                var db = connection.GetDatabase();
                var committed = new List<long>();
                while (committed.Count < 25)
                {
                    var seen = (long)await db.StringGetAsync("cas").WaitAsync(t);
                    var transaction = db.CreateTransaction();
                    transaction.AddCondition(Condition.StringEqual("cas", seen));
                    _ = transaction.StringSetAsync("cas", seen + 1);
                    if (await transaction.ExecuteAsync().WaitAsync(t))
                        committed.Add(seen);
                }
                return committed;
            })).WaitAsync(t);

            // Each value was the base of exactly one committed transaction: no lost update, no double commit.
            Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), histories.SelectMany(h => h).Order());
            Assert.Equal("100", (string?)await connections[1].GetDatabase().StringGetAsync("cas").WaitAsync(t));
        }
        finally
        {
            foreach (var connection in connections)
                await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task Expiry_is_set_read_and_honoured()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var redis = await ConnectAsync(cluster);
        var db = redis.GetDatabase();
        var t = TestCluster.Timeout;
        Assert.True(await db.StringSetAsync("session", "s", TimeSpan.FromMinutes(5)).WaitAsync(t));
        Assert.InRange((await db.KeyTimeToLiveAsync("session").WaitAsync(t))!.Value, TimeSpan.FromMinutes(4), TimeSpan.FromMinutes(5));
        Assert.True(await db.KeyExpireAsync("session", TimeSpan.FromMinutes(10)).WaitAsync(t));
        Assert.True(await db.KeyPersistAsync("session").WaitAsync(t));
        Assert.Null(await db.KeyTimeToLiveAsync("session").WaitAsync(t));
        Assert.True(await db.StringSetAsync("brief", "b", TimeSpan.FromMilliseconds(100)).WaitAsync(t));
        await Eventually.WaitAsync(async () => !await db.KeyExistsAsync("brief"), what: "a 100 ms key to expire");
        Assert.Equal("s", (string?)await db.StringGetSetExpiryAsync("session", TimeSpan.FromMinutes(1)).WaitAsync(t));
        Assert.NotNull(await db.KeyTimeToLiveAsync("session").WaitAsync(t));
        Assert.Equal(5.5, await db.StringIncrementAsync("float", 5.5).WaitAsync(t));
        Assert.True(await db.KeyRenameAsync("float", "renamed").WaitAsync(t));
        Assert.Equal("5.5", (string?)await db.StringGetAsync("renamed").WaitAsync(t));
    }

    [Theory]
    [InlineData(RedisProtocol.Resp2)]
    [InlineData(RedisProtocol.Resp3)]
    public async Task Published_messages_reach_subscribers(RedisProtocol protocol)
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var subscriberConnection = await ConnectAsync(cluster, protocol);
        await using var publisherConnection = await ConnectAsync(cluster);
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var patterned = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var subscriber = subscriberConnection.GetSubscriber();
        await subscriber.SubscribeAsync(RedisChannel.Literal("orders"), (_, message) => received.TrySetResult(message!)).WaitAsync(TestCluster.Timeout);
        await subscriber.SubscribeAsync(RedisChannel.Pattern("ord*"), (_, message) => patterned.TrySetResult(message!)).WaitAsync(TestCluster.Timeout);
        var receivers = await publisherConnection.GetSubscriber().PublishAsync(RedisChannel.Literal("orders"), "o-1").WaitAsync(TestCluster.Timeout);
        Assert.Equal(2, receivers);
        Assert.Equal("o-1", await received.Task.WaitAsync(TestCluster.Timeout));
        Assert.Equal("o-1", await patterned.Task.WaitAsync(TestCluster.Timeout));
    }

    [Fact]
    public async Task Lock_take_and_release_exclude_each_other()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var first = await ConnectAsync(cluster);
        await using var second = await ConnectAsync(cluster, RedisProtocol.Resp3);
        var a = first.GetDatabase();
        var b = second.GetDatabase();
        var t = TestCluster.Timeout;
        Assert.True(await a.LockTakeAsync("lock", "owner-a", TimeSpan.FromMinutes(1)).WaitAsync(t));
        Assert.False(await b.LockTakeAsync("lock", "owner-b", TimeSpan.FromMinutes(1)).WaitAsync(t));
        Assert.Equal("owner-a", (string?)await b.LockQueryAsync("lock").WaitAsync(t));
        Assert.False(await b.LockReleaseAsync("lock", "owner-b").WaitAsync(t)); // not the owner: nothing released
        Assert.True(await a.LockExtendAsync("lock", "owner-a", TimeSpan.FromMinutes(2)).WaitAsync(t));
        Assert.True(await a.LockReleaseAsync("lock", "owner-a").WaitAsync(t));
        Assert.True(await b.LockTakeAsync("lock", "owner-b", TimeSpan.FromMinutes(1)).WaitAsync(t));

        // Racing takers: exactly one wins each round.
        for (var round = 0; round < 5; round++)
        {
            var key = $"race{round}";
            var takes = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => (i % 2 == 0 ? a : b).LockTakeAsync(key, $"t{i}", TimeSpan.FromMinutes(1)))).WaitAsync(t);
            Assert.Single(takes, taken => taken);
        }
    }
}

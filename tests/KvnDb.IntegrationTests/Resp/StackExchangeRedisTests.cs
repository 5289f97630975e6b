using System.Net;
using KvnDb.Router;
using StackExchange.Redis;

namespace KvnDb.IntegrationTests.Resp;

/// <summary>StackExchange.Redis, a real Redis client, through the RESP port of a router with two real nodes.</summary>
public sealed class StackExchangeRedisTests
{
    private static async Task<ConnectionMultiplexer> ConnectAsync(TestCluster cluster, RedisProtocol protocol = RedisProtocol.Resp2, string? password = null)
    {
        var options = new ConfigurationOptions
        {
            EndPoints = { new IPEndPoint(IPAddress.Loopback, cluster.RespPort()) },
            Protocol = protocol,
            Password = password,
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
    public async Task Every_command_round_trips(RedisProtocol protocol)
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var redis = await ConnectAsync(cluster, protocol);
        var db = redis.GetDatabase();
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var t = TestCluster.Timeout;

        Assert.True(await db.PingAsync().WaitAsync(t) >= TimeSpan.Zero);
        Assert.Equal("hello", (string?)await db.ExecuteAsync("ECHO", "hello").WaitAsync(t));

        Assert.True(await db.StringSetAsync("alpha", "1").WaitAsync(t));
        Assert.Equal("1", (string?)await db.StringGetAsync("alpha").WaitAsync(t));
        Assert.True((await db.StringGetAsync("missing").WaitAsync(t)).IsNull);

        // The write reached both nodes (fan-out, write concern all).
        foreach (var node in cluster.Nodes)
            Assert.True(node.Engine.Exists("alpha"u8));

        // SET NX / XX / GET.
        Assert.False(await db.StringSetAsync("alpha", "2", when: When.NotExists).WaitAsync(t));
        Assert.True(await db.StringSetAsync("beta", "b", when: When.NotExists).WaitAsync(t));
        Assert.True(await db.StringSetAsync("alpha", "3", when: When.Exists).WaitAsync(t));
        Assert.False(await db.StringSetAsync("gamma", "g", when: When.Exists).WaitAsync(t));
        Assert.Equal("3", (string?)await db.StringSetAndGetAsync("alpha", "4").WaitAsync(t));
        Assert.True((await db.StringSetAndGetAsync("delta", "d").WaitAsync(t)).IsNull);
        Assert.Equal("4", (string?)await db.StringGetAsync("alpha").WaitAsync(t));
        Assert.Equal("d", (string?)await db.StringGetAsync("delta").WaitAsync(t));
        Assert.True((await db.StringGetAsync("gamma").WaitAsync(t)).IsNull);

        // MSET / MGET / EXISTS / DEL with many keys.
        Assert.True(await db.StringSetAsync([new("m1", "x"), new("m2", "y"), new("m3", "z")]).WaitAsync(t));
        var values = await db.StringGetAsync(["m1", "nope", "m3"]).WaitAsync(t);
        Assert.Equal(["x", null, "z"], values.Select(v => (string?)v));
        Assert.Equal(2, await db.KeyExistsAsync(["m1", "nope", "m2"]).WaitAsync(t));
        Assert.True(await db.KeyExistsAsync("m1").WaitAsync(t));
        Assert.Equal(2, await db.KeyDeleteAsync(["m1", "m2", "nope"]).WaitAsync(t));
        Assert.False(await db.KeyDeleteAsync("m1").WaitAsync(t));
        Assert.False(await db.KeyExistsAsync("m1").WaitAsync(t));

        // KEYS / SCAN (SE.Redis uses SCAN for server.Keys) / DBSIZE.
        for (var i = 0; i < 95; i++)
            await db.StringSetAsync($"scan:{i:D2}", i).WaitAsync(t);
        var keys = (RedisResult[])(await db.ExecuteAsync("KEYS", "scan:1*").WaitAsync(t))!;
        Assert.Equal(Enumerable.Range(10, 10).Select(i => $"scan:{i}"), keys.Select(k => (string)k!).Order());
        var scanned = new List<string>();
        await foreach (var key in server.KeysAsync(pattern: "scan:*", pageSize: 7))
            scanned.Add(key!);
        Assert.Equal(Enumerable.Range(0, 95).Select(i => $"scan:{i:D2}"), scanned.Order());
        Assert.Equal(95 + 4, await server.DatabaseSizeAsync().WaitAsync(t)); // alpha, beta, delta, m3 and the 95

        // Server and connection commands.
        var info = await server.InfoAsync().WaitAsync(t);
        Assert.Contains(info, g => g.Key == "Replication" && g.Any(p => p.Key == "kvndb_nodes_serving" && p.Value == "2"));
        Assert.Contains(info, g => g.Key == "Server" && g.Any(p => p.Key == "redis_version"));
        Assert.Equal("0", Assert.Single(await server.ConfigGetAsync("maxmemory").WaitAsync(t)).Value);
        Assert.True((long)(await db.ExecuteAsync("CLIENT", "ID").WaitAsync(t)) > 0);
        Assert.Equal("OK", (string?)await db.ExecuteAsync("CLIENT", "SETNAME", "tester").WaitAsync(t));
        Assert.Equal("tester", (string?)await db.ExecuteAsync("CLIENT", "GETNAME").WaitAsync(t));
        Assert.Equal("OK", (string?)await db.ExecuteAsync("SELECT", "0").WaitAsync(t));
        Assert.True((long)(await db.ExecuteAsync("COMMAND", "COUNT").WaitAsync(t)) >= 19);
        Assert.NotEmpty((RedisResult[])(await db.ExecuteAsync("COMMAND").WaitAsync(t))!);
        Assert.NotNull(await db.ExecuteAsync("COMMAND", "DOCS", "get").WaitAsync(t));

        var unknown = await Assert.ThrowsAsync<RedisServerException>(() => db.ExecuteAsync("NOSUCH").WaitAsync(t));
        Assert.StartsWith("ERR unknown command 'NOSUCH'", unknown.Message);
        Assert.True(await db.StringSetAsync("e", "v", TimeSpan.FromSeconds(50)).WaitAsync(t));
        Assert.InRange((await db.KeyTimeToLiveAsync("e").WaitAsync(t))!.Value, TimeSpan.FromSeconds(40), TimeSpan.FromSeconds(50));
    }

    [Fact]
    public async Task Password_protects_the_resp_port()
    {
        await using var cluster = await RespCluster.StartAsync(options: new RouterOptions { Password = "pw", AuthFailureDelay = TimeSpan.FromMilliseconds(50) });
        await using (var redis = await ConnectAsync(cluster, password: "pw"))
        {
            var db = redis.GetDatabase();
            Assert.True(await db.StringSetAsync("k", "v").WaitAsync(TestCluster.Timeout));
            Assert.Equal("v", (string?)await db.StringGetAsync("k").WaitAsync(TestCluster.Timeout));
        }
        await using (var redis = await ConnectAsync(cluster, RedisProtocol.Resp3, password: "pw"))
            Assert.Equal("v", (string?)await redis.GetDatabase().StringGetAsync("k").WaitAsync(TestCluster.Timeout));
        // Wrong and missing passwords are checked on the wire in RawRespTests (SE.Redis only retries until its timeout).
    }

    [Fact]
    public async Task Concurrent_callers_share_connections_without_mixing_replies()
    {
        await using var cluster = await RespCluster.StartAsync();
        var multiplexers = new[] { await ConnectAsync(cluster), await ConnectAsync(cluster, RedisProtocol.Resp3) };
        try
        {
            var workers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
            {
                var db = multiplexers[w % 2].GetDatabase();
                for (var i = 0; i < 300; i++)
                {
                    var key = $"w{w}:{i % 20}";
                    var value = $"{w}-{i}";
                    var set = db.StringSetAsync(key, value);
                    var get = db.StringGetAsync(key); // pipelined behind its own write on the same connection
                    var echo = db.ExecuteAsync("ECHO", value);
                    Assert.True(await set);
                    Assert.Equal(value, (string?)await get);
                    Assert.Equal(value, (string?)await echo);
                }
            })).ToArray();
            await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            foreach (var multiplexer in multiplexers)
                await multiplexer.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_node_killed_mid_run_loses_no_acknowledged_write()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var redis = await ConnectAsync(cluster);
        var db = redis.GetDatabase();
        using var stop = new CancellationTokenSource();
        var acknowledged = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        var failures = 0;
        var rounds = new AwaitableCounter(); // set-then-get rounds completed, by all workers
        var workers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var key = $"kill:{w}:{i % 50}";
                var value = $"{i}";
                try
                {
                    if (await db.StringSetAsync(key, value))
                        acknowledged[key] = value;
                    var read = (string?)await db.StringGetAsync(key);
                    Assert.Equal(value, read); // only this worker writes this key
                    rounds.Increment();
                }
                catch (RedisServerException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })).ToArray();

        rounds.Observe(workers); // a failed round fails the waits at once
        // Traffic before the stop, and traffic again after it: the survivor serves both reads and writes.
        await rounds.WaitForAsync(200, TestCluster.Timeout);
        await cluster.Nodes[0].StopAsync();
        await rounds.WaitForAsync(rounds.Value + 200, TestCluster.Timeout);
        await stop.CancelAsync();
        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromSeconds(60));

        // With one node left, writes and reads go on; what was acknowledged is there.
        Assert.Equal(0, failures);
        Assert.Equal(1, cluster.Router.ServingNodeCount);
        foreach (var (key, value) in acknowledged)
            Assert.Equal(value, (string?)await db.StringGetAsync(key).WaitAsync(TestCluster.Timeout));
    }
}

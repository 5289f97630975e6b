using System.Text;
using KvnDb.Router;

namespace KvnDb.IntegrationTests.Resp;

/// <summary>
/// The Redis command families through a real router and two real nodes, from a bare socket: strings,
/// counters, expiry, transactions, databases, pub/sub and the limits before AUTH.
/// </summary>
public sealed class RespCommandFamilyTests
{
    [Fact]
    public async Task String_commands_answer_as_redis_does()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var c = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal(5L, await c.CallAsync("APPEND", "s", "Hello"));
        Assert.Equal(11L, await c.CallAsync("APPEND", "s", " World"));
        Assert.Equal(11L, await c.CallAsync("STRLEN", "s"));
        Assert.Equal("World", await c.CallAsync("GETRANGE", "s", "-5", "-1"));
        Assert.Equal("Hello", await c.CallAsync("SUBSTR", "s", "0", "4"));
        Assert.Equal("", await c.CallAsync("GETRANGE", "missing", "0", "10"));
        Assert.Equal(11L, await c.CallAsync("SETRANGE", "s", "6", "Redis"));
        Assert.Equal("Hello Redis", await c.CallAsync("GET", "s"));
        Assert.Equal(3L, await c.CallAsync("SETRANGE", "padded", "2", "x"));
        Assert.Equal("\0\0x", await c.CallAsync("GET", "padded"));
        Assert.Equal("Hello Redis", await c.CallAsync("GETSET", "s", "new"));
        Assert.Equal("new", await c.CallAsync("GETDEL", "s"));
        Assert.Null(await c.CallAsync("GETDEL", "s"));
        Assert.Equal(1L, await c.CallAsync("MSETNX", "m1", "a", "m2", "b"));
        Assert.Equal(0L, await c.CallAsync("MSETNX", "m2", "x", "m3", "c"));
        Assert.Equal(new object?[] { "a", "b", null }, await c.CallAsync("MGET", "m1", "m2", "m3"));
        Assert.Equal("OK", await c.CallAsync("SET", "x", "1", "NX", "NX")); // a repeated option is accepted, as by Redis
        Assert.Equal("1", await c.CallAsync("SET", "x", "2", "NX", "GET")); // not written, the old value returned
        Assert.Equal("1", await c.CallAsync("GET", "x"));
        Assert.Equal("OK", await c.CallAsync("MSET", "a", "ohmytext", "b", "mynewtext"));
        Assert.Equal("mytext", await c.CallAsync("LCS", "a", "b"));
        Assert.Equal(6L, await c.CallAsync("LCS", "a", "b", "LEN"));
        Assert.Equal("int", await c.CallAsync("OBJECT", "ENCODING", "x"));
        Assert.Equal("string", await c.CallAsync("TYPE", "x"));
        Assert.Equal("none", await c.CallAsync("TYPE", "nothing"));
        Assert.Equal("OK", await c.CallAsync("SET", "bits", "`")); // 0110 0000
        Assert.Equal(new object?[] { 0L, 1L, 1L, 0L, 0L }, new[] { await c.CallAsync("GETBIT", "bits", "0"), await c.CallAsync("GETBIT", "bits", "1"),
            await c.CallAsync("GETBIT", "bits", "2"), await c.CallAsync("GETBIT", "bits", "3"), await c.CallAsync("GETBIT", "bits", "100") });
        Assert.Equal(new RespErrorReply("ERR bit offset is not an integer or out of range"), await c.CallAsync("GETBIT", "bits", "-1"));
    }

    [Fact]
    public async Task Values_above_the_key_limit_are_stored_by_set_and_setnx()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var c = await RawRespClient.ConnectAsync(cluster.RespPort());
        var big = new string('v', 200 * 1024); // above the 64 KiB key limit, far below the frame limit
        Assert.Equal("OK", await c.CallAsync("SET", "big", big));
        Assert.Equal(1L, await c.CallAsync("SETNX", "big2", big));
        Assert.Equal(big, await c.CallAsync("GET", "big2"));
        Assert.StartsWith("ERR key is above the limit", Assert.IsType<RespErrorReply>(await c.CallAsync("SET", new string('k', 65 * 1024), "v")).Message);
    }

    [Fact]
    public async Task Counters_are_computed_by_the_nodes()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var c = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal(1L, await c.CallAsync("INCR", "n"));
        Assert.Equal(11L, await c.CallAsync("INCRBY", "n", "10"));
        Assert.Equal(10L, await c.CallAsync("DECR", "n"));
        Assert.Equal(-5L, await c.CallAsync("DECRBY", "n", "15"));
        Assert.Equal("5.5", await c.CallAsync("INCRBYFLOAT", "f", "5.5"));
        Assert.Equal("OK", await c.CallAsync("SET", "word", "abc"));
        Assert.Equal(new RespErrorReply("ERR value is not an integer or out of range"), await c.CallAsync("INCR", "word"));
        Assert.Equal(new RespErrorReply("ERR value is not a valid float"), await c.CallAsync("INCRBYFLOAT", "word", "1"));
        Assert.Equal(new RespErrorReply("ERR increment would produce NaN or Infinity"), await c.CallAsync("INCRBYFLOAT", "f", "+inf"));
        Assert.Equal("OK", await c.CallAsync("SET", "max", long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(new RespErrorReply("ERR increment or decrement would overflow"), await c.CallAsync("INCR", "max"));
        foreach (var node in cluster.Nodes)
            Assert.True(node.Engine.TryGet("n"u8, out var stored) && Encoding.UTF8.GetString(stored.Value.Span) == "-5");
    }

    [Fact]
    public async Task Expiry_family_sets_reads_and_removes_expiries()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var c = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal("OK", await c.CallAsync("SET", "k", "v", "EX", "100"));
        Assert.InRange((long)(await c.CallAsync("TTL", "k"))!, 99, 100);
        Assert.InRange((long)(await c.CallAsync("PTTL", "k"))!, 98_000, 100_000);
        Assert.Equal("OK", await c.CallAsync("SET", "nottl", "v"));
        Assert.Equal(-1L, await c.CallAsync("TTL", "nottl"));
        Assert.Equal(-2L, await c.CallAsync("TTL", "missing"));
        Assert.Equal(0L, await c.CallAsync("EXPIRE", "k", "200", "NX"));
        Assert.Equal(1L, await c.CallAsync("EXPIRE", "k", "200", "GT"));
        Assert.Equal(0L, await c.CallAsync("EXPIRE", "k", "100", "GT"));
        Assert.Equal(1L, await c.CallAsync("EXPIRE", "k", "50", "LT"));
        Assert.InRange((long)(await c.CallAsync("TTL", "k"))!, 49, 50);
        var at = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        Assert.Equal(1L, await c.CallAsync("EXPIREAT", "k", at.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(at, await c.CallAsync("EXPIRETIME", "k"));
        Assert.Equal(1L, await c.CallAsync("PERSIST", "k"));
        Assert.Equal(-1L, await c.CallAsync("TTL", "k"));
        Assert.Equal(0L, await c.CallAsync("PERSIST", "k"));
        Assert.Equal(new RespErrorReply("ERR NX and XX, GT or LT options at the same time are not compatible"), await c.CallAsync("EXPIRE", "k", "1", "NX", "GT"));
        Assert.Equal("v", await c.CallAsync("GETEX", "k", "PX", "100000"));
        Assert.InRange((long)(await c.CallAsync("PTTL", "k"))!, 1, 100_000);
        Assert.Equal("OK", await c.CallAsync("SETEX", "short", "1", "v"));
        Assert.Equal("OK", await c.CallAsync("PSETEX", "shorter", "50", "v"));
        // Keys expire by the router's clock: gone for reads at once, and removed from the nodes by a time mark.
        await Eventually.WaitAsync(async () => await c.CallAsync("GET", "shorter") is null, what: "PSETEX 50 ms to expire");
        await Eventually.WaitAsync(() => !cluster.Nodes.Any(n => n.Engine.Exists("shorter"u8)), what: "the time mark to remove the key");
        Assert.Equal(1L, await c.CallAsync("EXPIRE", "k", "-1"));
        Assert.Null(await c.CallAsync("GET", "k"));
    }

    [Fact]
    public async Task Multi_exec_runs_the_queue_as_one_batch_and_watch_guards_it()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var c = await RawRespClient.ConnectAsync(cluster.RespPort());
        await using var other = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal("OK", await c.CallAsync("SET", "word", "abc"));
        Assert.Equal("OK", await c.CallAsync("MULTI"));
        Assert.Equal("QUEUED", await c.CallAsync("SET", "a", "1"));
        Assert.Equal("QUEUED", await c.CallAsync("INCR", "a"));
        Assert.Equal("QUEUED", await c.CallAsync("INCR", "word"));
        Assert.Equal("QUEUED", await c.CallAsync("GET", "a"));
        Assert.Equal("QUEUED", await c.CallAsync("PING"));
        Assert.Equal("QUEUED", await c.CallAsync("DEL", "a", "nothing"));
        var exec = Assert.IsType<object?[]>(await c.CallAsync("EXEC"));
        Assert.Equal(new object?[] { "OK", 2L, new RespErrorReply("ERR value is not an integer or out of range"), "2", "PONG", 1L }, exec);

        // A queue-time error discards the whole transaction.
        Assert.Equal("OK", await c.CallAsync("MULTI"));
        Assert.IsType<RespErrorReply>(await c.CallAsync("GET"));
        Assert.Equal("QUEUED", await c.CallAsync("SET", "never", "1"));
        Assert.Equal(new RespErrorReply("EXECABORT Transaction discarded because of previous errors."), await c.CallAsync("EXEC"));
        Assert.Null(await c.CallAsync("GET", "never"));
        Assert.Equal(new RespErrorReply("ERR EXEC without MULTI"), await c.CallAsync("EXEC"));

        // WATCH: a change by another client between WATCH and EXEC makes EXEC answer null and change nothing.
        Assert.Equal("OK", await c.CallAsync("WATCH", "w", "v"));
        Assert.Equal("OK", await other.CallAsync("SET", "w", "changed"));
        Assert.Equal("OK", await c.CallAsync("MULTI"));
        Assert.Equal("QUEUED", await c.CallAsync("SET", "guarded", "1"));
        Assert.Null(await c.CallAsync("EXEC"));
        Assert.Null(await c.CallAsync("GET", "guarded"));

        // Unchanged watched keys let it run; WATCH, MULTI and EXEC pipelined in one write work too.
        await c.SendAsync([.. RawRespClient.Command("WATCH", "w"), .. RawRespClient.Command("MULTI"), .. RawRespClient.Command("SET", "guarded", "2"), .. RawRespClient.Command("EXEC")]);
        Assert.Equal("OK", await c.ReadAsync());
        Assert.Equal("OK", await c.ReadAsync());
        Assert.Equal("QUEUED", await c.ReadAsync());
        Assert.Equal(new object?[] { "OK" }, await c.ReadAsync());
        Assert.Equal("2", await c.CallAsync("GET", "guarded"));
        Assert.Equal("OK", await c.CallAsync("MULTI"));
        Assert.Equal(new RespErrorReply("ERR Command not allowed inside a transaction"), await c.CallAsync("SAVE"));
        Assert.StartsWith("EXECABORT", Assert.IsType<RespErrorReply>(await c.CallAsync("EXEC")).Message);
        Assert.Equal("OK", await c.CallAsync("MULTI"));
        Assert.Equal("OK", await c.CallAsync("DISCARD"));
        Assert.Equal(new RespErrorReply("ERR DISCARD without MULTI"), await c.CallAsync("DISCARD"));
    }

    [Fact]
    public async Task Select_gives_sixteen_databases_with_their_own_sizes_and_flushes()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var c = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal("OK", await c.CallAsync("SET", "k", "zero"));
        Assert.Equal("OK", await c.CallAsync("SELECT", "9"));
        Assert.Null(await c.CallAsync("GET", "k"));
        Assert.Equal("OK", await c.CallAsync("MSET", "k", "nine", "j", "nine too"));
        Assert.Equal(2L, await c.CallAsync("DBSIZE"));
        Assert.Equal(new object?[] { "j", "k" }, ((object?[])(await c.CallAsync("KEYS", "*"))!).Order().ToArray());
        Assert.Equal(1L, await c.CallAsync("MOVE", "j", "0"));
        Assert.Equal(1L, await c.CallAsync("COPY", "k", "k", "DB", "5"));
        Assert.Equal("OK", await c.CallAsync("FLUSHDB"));
        Assert.Equal(0L, await c.CallAsync("DBSIZE"));
        Assert.Equal("OK", await c.CallAsync("SELECT", "5"));
        Assert.Equal("nine", await c.CallAsync("GET", "k"));
        Assert.Equal("OK", await c.CallAsync("SELECT", "0"));
        Assert.Equal("zero", await c.CallAsync("GET", "k"));
        Assert.Equal("nine too", await c.CallAsync("GET", "j"));
        Assert.Equal(2L, await c.CallAsync("DBSIZE"));
        Assert.Equal(new object?[] { "j", "k" }, ((object?[])(await c.CallAsync("KEYS", "*"))!).Order().ToArray());
        var info = (string)(await c.CallAsync("INFO", "keyspace"))!;
        Assert.Contains("db0:keys=2", info);
        Assert.Contains("db5:keys=1", info);
        Assert.Equal("OK", await c.CallAsync("RENAME", "k", "renamed"));
        Assert.Equal(new RespErrorReply("ERR no such key"), await c.CallAsync("RENAME", "k", "x"));
        Assert.Equal(0L, await c.CallAsync("RENAMENX", "renamed", "j"));
        Assert.Equal("OK", await c.CallAsync("FLUSHALL"));
        Assert.Equal(0L, await c.CallAsync("DBSIZE"));
        Assert.Equal("OK", await c.CallAsync("SELECT", "5"));
        Assert.Equal(0L, await c.CallAsync("DBSIZE"));
    }

    [Fact]
    public async Task Pipelined_counters_on_one_connection_apply_in_order()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var c = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal("OK", await c.CallAsync("SET", "last", "start"));
        var burst = new List<byte>();
        for (var i = 0; i < 1000; i++)
        {
            burst.AddRange(RawRespClient.Command("INCR", "counter"));
            burst.AddRange(RawRespClient.Command("SET", "last", $"{i}", "XX", "GET"));
        }
        await c.SendAsync([.. burst]);
        for (var i = 0; i < 1000; i++)
        {
            Assert.Equal(i + 1L, await c.ReadAsync());
            Assert.Equal(i == 0 ? "start" : $"{i - 1}", await c.ReadAsync());
        }
        Assert.Equal("999", await c.CallAsync("GET", "last"));
    }

    [Fact]
    public async Task Racing_clients_each_get_a_distinct_count_and_one_setnx_wins()
    {
        await using var cluster = await RespCluster.StartAsync();
        var clients = new List<RawRespClient>();
        for (var i = 0; i < 8; i++)
            clients.Add(await RawRespClient.ConnectAsync(cluster.RespPort()));
        try
        {
            var results = await Task.WhenAll(clients.Select(async (c, index) =>
            {
                var seen = new List<long>();
                var burst = new List<byte>();
                burst.AddRange(RawRespClient.Command("SETNX", "winner", $"{index}"));
                for (var i = 0; i < 200; i++)
                    burst.AddRange(RawRespClient.Command("INCR", "shared"));
                await c.SendAsync([.. burst]);
                var won = (long)(await c.ReadAsync())!;
                for (var i = 0; i < 200; i++)
                    seen.Add((long)(await c.ReadAsync())!);
                return (won, seen);
            })).WaitAsync(TestCluster.Timeout);
            Assert.Equal(1, results.Count(r => r.won == 1));
            var all = results.SelectMany(r => r.seen).ToList();
            Assert.Equal(Enumerable.Range(1, 1600).Select(i => (long)i), all.Order());
            Assert.Equal("1600", await clients[0].CallAsync("GET", "shared"));
        }
        finally
        {
            foreach (var c in clients)
                await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task Publish_reaches_channel_and_pattern_subscribers_in_resp2_and_resp3()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var resp2 = await RawRespClient.ConnectAsync(cluster.RespPort());
        await using var resp3 = await RawRespClient.ConnectAsync(cluster.RespPort());
        await using var publisher = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal(new object?[] { "subscribe", "news", 1L }, await resp2.CallAsync("SUBSCRIBE", "news"));
        Assert.Equal(new object?[] { "pong", "" }, await resp2.CallAsync("PING"));
        Assert.StartsWith("ERR Can't execute 'get'", Assert.IsType<RespErrorReply>(await resp2.CallAsync("GET", "x")).Message);
        Assert.IsType<RespMapReply>(await resp3.CallAsync("HELLO", "3"));
        Assert.Equal(new object?[] { "psubscribe", "n*", 1L }, await resp3.CallAsync("PSUBSCRIBE", "n*"));
        Assert.Null(await resp3.CallAsync("GET", "x")); // RESP3 connections may go on with other commands
        Assert.Equal(2L, await publisher.CallAsync("PUBLISH", "news", "hello"));
        Assert.Equal(new object?[] { "message", "news", "hello" }, await resp2.ReadAsync());
        Assert.Equal(new object?[] { "pmessage", "n*", "news", "hello" }, await resp3.ReadAsync());
        Assert.Equal(new object?[] { "news" }, await publisher.CallAsync("PUBSUB", "CHANNELS"));
        Assert.Equal(new object?[] { "news", 1L }, await publisher.CallAsync("PUBSUB", "NUMSUB", "news"));
        Assert.Equal(1L, await publisher.CallAsync("PUBSUB", "NUMPAT"));
        Assert.Equal(new object?[] { "unsubscribe", "news", 0L }, await resp2.CallAsync("UNSUBSCRIBE"));
        Assert.Equal(1L, await publisher.CallAsync("PUBLISH", "news", "again"));
    }

    [Fact]
    public async Task Before_auth_only_small_commands_are_read_and_a_silent_peer_is_closed()
    {
        await using var cluster = await RespCluster.StartAsync(options: new RouterOptions
        {
            Password = "pw",
            AuthFailureDelay = TimeSpan.FromMilliseconds(10),
            HandshakeTimeout = TimeSpan.FromSeconds(2),
        });
        await using var many = await RawRespClient.ConnectAsync(cluster.RespPort());
        await many.SendAsync("*11\r\n");
        Assert.Equal(new RespErrorReply("ERR Protocol error: unauthenticated multibulk length"), await many.ReadAsync());
        Assert.True(await many.IsClosedByServerAsync());

        await using var large = await RawRespClient.ConnectAsync(cluster.RespPort());
        await large.SendAsync("*2\r\n$4\r\nAUTH\r\n$20000\r\n");
        Assert.Equal(new RespErrorReply("ERR Protocol error: unauthenticated bulk length"), await large.ReadAsync());
        Assert.True(await large.IsClosedByServerAsync());

        // Once authenticated, the same sizes are ordinary.
        await using var good = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal("OK", await good.CallAsync("AUTH", "pw"));
        Assert.Equal("OK", await good.CallAsync("MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e", "5", "f", new string('x', 20_000)));

        // A connection that never authenticates is closed after the handshake timeout.
        await using var silent = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.True(await silent.IsClosedByServerAsync());
        Assert.Equal("1", await good.CallAsync("GET", "a"));
    }

    [Fact]
    public async Task Auth_default_without_a_password_and_client_reply_modes()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var c = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal("OK", await c.CallAsync("AUTH", "default", "anything"));
        Assert.StartsWith("ERR AUTH <password> called without any password", Assert.IsType<RespErrorReply>(await c.CallAsync("AUTH", "pw")).Message);
        await c.SendAsync([.. RawRespClient.Command("CLIENT", "REPLY", "OFF"), .. RawRespClient.Command("SET", "quiet", "1"), .. RawRespClient.Command("CLIENT", "REPLY", "ON")]);
        Assert.Equal("OK", await c.ReadAsync()); // only REPLY ON answers
        await c.SendAsync([.. RawRespClient.Command("CLIENT", "REPLY", "SKIP"), .. RawRespClient.Command("GET", "quiet"), .. RawRespClient.Command("ECHO", "after")]);
        Assert.Equal("after", await c.ReadAsync());
        Assert.Contains("name=", (string)(await c.CallAsync("CLIENT", "INFO"))!);
        var errors = (string)(await c.CallAsync("INFO", "stats"))!;
        Assert.Matches(@"total_error_replies:[1-9]", errors);
    }
}

using System.Text;
using KvnDb.Router;

namespace KvnDb.IntegrationTests.Resp;

/// <summary>RESP on the wire, from a bare socket: pipelining, inline commands, RESP3, AUTH and malformed input.</summary>
public sealed class RawRespTests
{
    [Fact]
    public async Task Pipelined_commands_are_answered_in_order()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var client = await RawRespClient.ConnectAsync(cluster.RespPort());

        // One write carrying many commands of every kind; reads and writes go to two nodes and come back out of order.
        var burst = new List<byte>();
        var expected = new List<object?>();
        for (var i = 0; i < 300; i++)
        {
            burst.AddRange(RawRespClient.Command("SET", $"p{i}", $"v{i}"));
            expected.Add("OK");
            burst.AddRange(RawRespClient.Command("GET", $"p{i}"));
            expected.Add($"v{i}");
            burst.AddRange(RawRespClient.Command("PING"));
            expected.Add("PONG");
            burst.AddRange(RawRespClient.Command("GET", $"missing{i}"));
            expected.Add(null);
            burst.AddRange(RawRespClient.Command("EXISTS", $"p{i}", $"missing{i}", $"p{i}"));
            expected.Add(2L);
            burst.AddRange(Encoding.UTF8.GetBytes($"ECHO e{i}\r\n"));
            expected.Add($"e{i}");
        }
        await client.SendAsync([.. burst]);
        foreach (var reply in expected)
            Assert.Equal(reply, await client.ReadAsync());
    }

    [Fact]
    public async Task Pipelined_conditional_sets_are_evaluated_by_the_nodes_in_order()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var client = await RawRespClient.ConnectAsync(cluster.RespPort());
        var burst = new List<byte>();
        burst.AddRange(RawRespClient.Command("SET", "k", "0"));
        burst.AddRange(RawRespClient.Command("SET", "k", "1", "XX"));
        burst.AddRange(RawRespClient.Command("SET", "k", "2"));
        burst.AddRange(RawRespClient.Command("GET", "k"));
        burst.AddRange(RawRespClient.Command("DEL", "k"));
        burst.AddRange(RawRespClient.Command("SET", "k", "1", "NX", "GET"));
        burst.AddRange(RawRespClient.Command("SETNX", "k", "3"));
        burst.AddRange(RawRespClient.Command("DEL", "k"));
        burst.AddRange(RawRespClient.Command("EXISTS", "k"));
        await client.SendAsync([.. burst]);
        foreach (var expected in new object?[] { "OK", "OK", "OK", "2", 1L, null, 0L, 1L, 0L })
            Assert.Equal(expected, await client.ReadAsync());
    }

    [Fact]
    public async Task More_commands_than_the_in_flight_limit_still_all_answer_in_order()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var client = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal("OK", await client.CallAsync("SET", "k", "v"));
        var burst = new List<byte>();
        for (var i = 0; i < 10_000; i++)
            burst.AddRange(RawRespClient.Command(i % 2 == 0 ? "GET" : "ECHO", i % 2 == 0 ? "k" : $"{i}"));
        var send = client.SendAsync([.. burst]);
        for (var i = 0; i < 10_000; i++)
            Assert.Equal(i % 2 == 0 ? "v" : $"{i}", await client.ReadAsync());
        await send;
    }

    [Fact]
    public async Task Inline_commands_and_dribbled_bytes_work()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var client = await RawRespClient.ConnectAsync(cluster.RespPort());
        await client.SendAsync("PING\r\nSET inline \"two words\"\r\nGET inline\r\n\r\nDBSIZE\n");
        Assert.Equal("PONG", await client.ReadAsync());
        Assert.Equal("OK", await client.ReadAsync());
        Assert.Equal("two words", await client.ReadAsync());
        Assert.Equal(1L, await client.ReadAsync());

        // One byte per write: every command straddles reads and buffer segments.
        var value = new string('x', 10_000);
        foreach (var b in RawRespClient.Command("SET", "dribble", value))
            await client.SendAsync([b]);
        Assert.Equal("OK", await client.ReadAsync());
        Assert.Equal(value, await client.CallAsync("GET", "dribble"));
    }

    [Fact]
    public async Task Hello_3_switches_to_resp3()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var client = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Null(await client.CallAsync("GET", "nothing"));
        var hello = Assert.IsType<RespMapReply>(await client.CallAsync("HELLO", "3", "SETNAME", "raw"));
        Assert.Contains(hello.Entries, e => Equals(e.Key, "proto") && Equals(e.Value, 3L));
        Assert.Contains(hello.Entries, e => Equals(e.Key, "server") && Equals(e.Value, "redis"));
        Assert.Equal("raw", await client.CallAsync("CLIENT", "GETNAME"));
        await client.SendAsync(RawRespClient.Command("GET", "nothing"));
        Assert.Null(await client.ReadAsync()); // "_" in RESP3
        Assert.IsType<RespMapReply>(await client.CallAsync("CONFIG", "GET", "maxmemory"));
        Assert.Equal(new RespErrorReply("NOPROTO unsupported protocol version"), await client.CallAsync("HELLO", "4"));
        var hello2 = Assert.IsType<object?[]>(await client.CallAsync("HELLO", "2"));
        Assert.Equal(14, hello2.Length);
        Assert.Equal(new object?[] { "maxmemory", "0" }, await client.CallAsync("CONFIG", "GET", "maxmemory"));
    }

    [Fact]
    public async Task Password_is_required_and_checked()
    {
        await using var cluster = await RespCluster.StartAsync(options: new RouterOptions { Password = "s3cret", AuthFailureDelay = TimeSpan.FromMilliseconds(200) });
        await using var client = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal(new RespErrorReply("NOAUTH Authentication required."), await client.CallAsync("GET", "a"));
        Assert.Equal(new RespErrorReply("NOAUTH Authentication required."), await client.CallAsync("PING"));
        Assert.IsType<RespErrorReply>(await client.CallAsync("HELLO", "3"));

        // A wrong password answers late, but in order: the PING pipelined behind it waits for it.
        await client.SendAsync([.. RawRespClient.Command("AUTH", "wrong"), .. RawRespClient.Command("PING")]);
        Assert.Equal(new RespErrorReply("WRONGPASS invalid username-password pair or user is disabled."), await client.ReadAsync());
        Assert.Equal(new RespErrorReply("NOAUTH Authentication required."), await client.ReadAsync());

        Assert.Equal("OK", await client.CallAsync("AUTH", "default", "s3cret"));
        Assert.Equal("OK", await client.CallAsync("SET", "a", "1"));
        Assert.Equal("1", await client.CallAsync("GET", "a"));

        await using var second = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.IsType<RespMapReply>(await second.CallAsync("HELLO", "3", "AUTH", "default", "s3cret"));
        Assert.Equal("1", await second.CallAsync("GET", "a"));
    }

    [Fact]
    public async Task Quit_answers_then_closes()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var client = await RawRespClient.ConnectAsync(cluster.RespPort());
        await client.SendAsync([.. RawRespClient.Command("SET", "q", "1"), .. RawRespClient.Command("QUIT"), .. RawRespClient.Command("PING")]);
        Assert.Equal("OK", await client.ReadAsync());
        Assert.Equal("OK", await client.ReadAsync());
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Theory]
    [InlineData("*abc\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*2000000\r\n", "ERR Protocol error: invalid multibulk length")]
    [InlineData("*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$99999999999999999999999\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*1\r\n$2000000\r\n", "ERR Protocol error: invalid bulk length")]
    [InlineData("*2\r\n$3\r\nSET\r\n$1048570\r\n", "ERR Protocol error: command larger than the frame limit")]
    [InlineData("*1\r\n$3\r\nGETxx", "ERR Protocol error: bulk string not terminated by CRLF")]
    [InlineData("*1\r\n:12\r\n", "ERR Protocol error: expected '$', got ':'")]
    [InlineData("*1\r\n*1\r\n$4\r\nPING\r\n", "ERR Protocol error: expected '$', got '*'")]
    [InlineData("SET \"unbalanced x\r\n", "ERR Protocol error: unbalanced quotes in request")]
    public async Task Malformed_input_gets_a_protocol_error_and_closes_only_that_connection(string input, string error)
    {
        // A small frame limit, so "huge" is cheap to claim; nothing of that size is ever sent or allocated.
        await using var cluster = await RespCluster.StartAsync(options: new RouterOptions { MaxFrameSize = 1024 * 1024 });
        await using var healthy = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal("OK", await healthy.CallAsync("SET", "survivor", "yes"));

        await using var bad = await RawRespClient.ConnectAsync(cluster.RespPort());
        await bad.SendAsync([.. RawRespClient.Command("SET", "before", "1"), .. Encoding.UTF8.GetBytes(input)]);
        Assert.Equal("OK", await bad.ReadAsync()); // what came before the violation is still answered
        Assert.Equal(new RespErrorReply(error), await bad.ReadAsync());
        Assert.True(await bad.IsClosedByServerAsync());

        Assert.Equal("yes", await healthy.CallAsync("GET", "survivor"));
        Assert.Equal("1", await healthy.CallAsync("GET", "before"));
    }

    [Fact]
    public async Task An_unterminated_inline_line_is_refused_past_64_KiB()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var healthy = await RawRespClient.ConnectAsync(cluster.RespPort());
        await using var bad = await RawRespClient.ConnectAsync(cluster.RespPort());
        await bad.SendAsync("PING\r\n" + new string('a', 70 * 1024));
        Assert.Equal("PONG", await bad.ReadAsync());
        Assert.Equal(new RespErrorReply("ERR Protocol error: too big inline request"), await bad.ReadAsync());
        Assert.True(await bad.IsClosedByServerAsync());
        Assert.Equal("PONG", await healthy.CallAsync("PING"));
    }

    [Fact]
    public async Task Unknown_commands_wrong_arity_and_bad_options_fail_alone()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var client = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal(new RespErrorReply("ERR unknown command 'NOSUCH', with args beginning with: 'x' "), await client.CallAsync("NOSUCH", "x"));
        Assert.Equal(new RespErrorReply("ERR syntax error"), await client.CallAsync("FLUSHALL", "x"));
        Assert.Equal(new RespErrorReply("ERR wrong number of arguments for 'get' command"), await client.CallAsync("GET"));
        Assert.Equal(new RespErrorReply("ERR wrong number of arguments for 'mset' command"), await client.CallAsync("MSET", "a", "1", "b"));
        Assert.Equal(new RespErrorReply("ERR invalid expire time in 'set' command"), await client.CallAsync("SET", "k", "v", "EX", "0"));
        Assert.Equal(new RespErrorReply("ERR syntax error"), await client.CallAsync("SET", "k", "v", "NX", "XX"));
        Assert.Equal(new RespErrorReply("ERR syntax error"), await client.CallAsync("SET", "k", "v", "EX", "1", "KEEPTTL"));
        Assert.Equal(new RespErrorReply("ERR DB index is out of range"), await client.CallAsync("SELECT", "16"));
        Assert.Equal("OK", await client.CallAsync("SELECT", "0"));
        Assert.Null(await client.CallAsync("GET", "k"));
        Assert.Equal("PONG", await client.CallAsync("PING"));
    }

    [Fact]
    public async Task Keys_scan_and_dbsize_walk_the_keyspace()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var client = await RawRespClient.ConnectAsync(cluster.RespPort());
        var all = Enumerable.Range(0, 250).Select(i => $"user:{i:D3}").Concat(["order:1", "order:2", "x"]).ToArray();
        foreach (var chunk in all.Chunk(50))
            Assert.Equal("OK", await client.CallAsync(["MSET", .. chunk.SelectMany(k => new[] { k, "v" })]));

        Assert.Equal((long)all.Length, await client.CallAsync("DBSIZE"));
        var keys = Assert.IsType<object?[]>(await client.CallAsync("KEYS", "order:*"));
        Assert.Equal(["order:1", "order:2"], keys.Cast<string>().Order());
        Assert.Equal(["user:010", "user:110", "user:210"], Assert.IsType<object?[]>(await client.CallAsync("KEYS", "user:?1[0]")).Cast<string>().Order());

        // A full SCAN returns every key present throughout, each once here, even with writes in between pages.
        var seen = new List<string>();
        var cursor = "0";
        var pages = 0;
        do
        {
            var page = Assert.IsType<object?[]>(await client.CallAsync("SCAN", cursor, "COUNT", "17"));
            cursor = Assert.IsType<string>(page[0]);
            seen.AddRange(Assert.IsType<object?[]>(page[1]).Cast<string>());
            Assert.Equal("OK", await client.CallAsync("SET", $"new{pages++}", "v"));
        }
        while (cursor != "0");
        Assert.Equal(all.Order(), seen.Where(k => !k.StartsWith("new", StringComparison.Ordinal)).Order());
        Assert.Equal(seen.Count, seen.Distinct().Count());

        // MATCH, and a cursor continued on another connection (the router keeps nothing: the cursor is a position).
        var first = Assert.IsType<object?[]>(await client.CallAsync("SCAN", "0", "MATCH", "user:1*", "COUNT", "5"));
        Assert.NotEqual("0", first[0]);
        await using var other = await RawRespClient.ConnectAsync(cluster.RespPort());
        var matched = Assert.IsType<object?[]>(first[1]).Cast<string>().ToList();
        for (var cursor2 = (string)first[0]!; cursor2 != "0";)
        {
            var next = Assert.IsType<object?[]>(await other.CallAsync("SCAN", cursor2, "MATCH", "user:1*", "COUNT", "5"));
            cursor2 = Assert.IsType<string>(next[0]);
            matched.AddRange(Assert.IsType<object?[]>(next[1]).Cast<string>());
        }
        Assert.Equal(Enumerable.Range(100, 100).Select(i => $"user:{i}"), matched.Order(StringComparer.Ordinal));
    }
}

using System.Security.Cryptography;
using KvnDb.Client;
using KvnDb.Protocol;
using KvnDb.Protocol.Tls;
using KvnDb.Router;
using KvnDb.Transport;

namespace KvnDb.IntegrationTests;

/// <summary>
/// The router's two socket engines (<c>--io-engine</c>) behave the same from outside: many clients at once, frames
/// larger than any buffer in both directions, a receiver too slow for the router's sends, peers that vanish mid-frame
/// (their last bytes and their end in one edge), TLS, the RESP port, and a stop with clients connected. The epoll
/// engine's threads poll before they sleep (<c>--busy-poll</c>) or sleep at once: both serve alike.
/// </summary>
public sealed class IoEngineTests
{
    private static RouterOptions On(IoEngine engine, RouterOptions? options = null) => (options ?? new RouterOptions()) with { IoEngine = engine };

    [Theory]
    [InlineData(IoEngine.Sockets, 50)]
    [InlineData(IoEngine.Epoll, 50)]
    [InlineData(IoEngine.Epoll, 0)] // epoll threads that sleep as soon as they are idle (--busy-poll 0)
    public async Task Many_clients_writing_at_once_each_read_back_every_write(IoEngine engine, int busyPollMicroseconds)
    {
        // The epoll engine defers node flushes to the end of each wake-up (WakeBatch): a lost one leaves a caller waiting.
        await using var cluster = await TestCluster.StartAsync(nodes: 2, On(engine, new RouterOptions { BusyPoll = TimeSpan.FromMicroseconds(busyPollMicroseconds) }));
        var clients = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => cluster.ConnectAsync()));
        try
        {
            await Task.WhenAll(clients.Select((client, c) => Task.Run(async () =>
            {
                for (var i = 0; i < 200; i++)
                    await client.SetAsync($"c{c}:k{i}", $"{c}-{i}");
            }))).WaitAsync(TimeSpan.FromMinutes(2));
            for (var c = 0; c < clients.Length; c++)
            {
                var keys = Enumerable.Range(0, 200).Select(i => $"c{c}:k{i}").ToArray();
                Assert.Equal(Enumerable.Range(0, 200).Select(i => $"{c}-{i}"), await clients[c].MultiGetStringsAsync(keys));
            }
            Assert.Equal(2, cluster.Router.ServingNodeCount);
        }
        finally
        {
            foreach (var client in clients)
                await client.DisposeAsync();
        }
    }

    [Theory]
    [InlineData(IoEngine.Sockets)]
    [InlineData(IoEngine.Epoll)]
    public async Task A_value_larger_than_every_buffer_reaches_a_receiver_with_a_tiny_window_whole(IoEngine engine)
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, On(engine));
        var value = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
        await using (var writer = await cluster.ConnectAsync())
            await writer.SetAsync("big"u8.ToArray(), value);

        // A 4 KiB window: the router's send to this client must stop on a full socket many times and resume on its edge.
        using var slow = await RawConnection.ConnectAsync(cluster.Router.Port, receiveBufferSize: 4096);
        await slow.SendHelloAsync();
        Assert.Equal(StatusCode.Ok, (await slow.ReadRawFrameAsync())!.Header.Status);
        await slow.SendFrameAsync(Opcode.Get, 2, "big"u8.ToArray());
        var reply = await slow.ReadRawFrameAsync(TimeSpan.FromMinutes(1));
        Assert.NotNull(reply);
        Assert.Equal(StatusCode.Ok, reply.Header.Status);
        Assert.True(reply.Body.AsSpan().EndsWith(value), "the value arrived altered");

        // And the other way: the same value written over that connection, read back by another client.
        await slow.SendFrameAsync(Opcode.Set, 3, "big2"u8.ToArray(), value);
        Assert.Equal(StatusCode.Ok, (await slow.ReadRawFrameAsync(TimeSpan.FromMinutes(1)))!.Header.Status);
        await using var reader = await cluster.ConnectAsync();
        Assert.Equal(value, await reader.GetAsync("big2"u8.ToArray()));
    }

    [Theory]
    [InlineData(IoEngine.Sockets)]
    [InlineData(IoEngine.Epoll)]
    public async Task Peers_that_vanish_mid_frame_or_reset_leave_the_router_serving_everyone_else(IoEngine engine)
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, On(engine));
        await using var bystander = await cluster.ConnectAsync();
        await bystander.SetAsync("steady", "before");
        for (var i = 0; i < 20; i++)
        {
            var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
            await raw.SendHelloAsync();
            Assert.Equal(StatusCode.Ok, (await raw.ReadRawFrameAsync())!.Header.Status);
            var frame = new System.Buffers.ArrayBufferWriter<byte>();
            FrameWriter.WriteRaw(frame, Opcode.Set, FrameFlags.None, StatusCode.Ok, 7, new byte[10]);
            await raw.SendAsync(frame.WrittenMemory[..^7]); // a header and a few bytes of its body
            if (i % 2 == 0)
                raw.Reset();
            else
                raw.Dispose();
        }
        await Eventually.WaitAsync(() => cluster.Router.ConnectionCounts.Clients == 1, what: "the vanished peers' connections close");
        await bystander.SetAsync("steady", "after");
        Assert.Equal("after", await bystander.GetStringAsync("steady"));
    }

    [Theory]
    [InlineData(IoEngine.Sockets)]
    [InlineData(IoEngine.Epoll)]
    public async Task Tls_works_over_the_engine(IoEngine engine)
    {
        using var certificates = new TestCertificates();
        var router = certificates.Create("router");
        await using var cluster = await TestCluster.StartAsync(nodes: 0, On(engine, new RouterOptions
        {
            Transport = "tls",
            TlsCertificateFile = router.Certificate,
            TlsKeyFile = router.Key,
            EmbeddedNodes = 2,
        }));
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        await using var client = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = cluster.Router.Port, Tls = new TlsClientSettings { CaFile = router.Certificate } });
        var value = RandomNumberGenerator.GetBytes(200_000);
        await client.SetAsync("tls"u8.ToArray(), value);
        Assert.Equal(value, await client.GetAsync("tls"u8.ToArray()));
    }

    [Theory]
    [InlineData(IoEngine.Sockets)]
    [InlineData(IoEngine.Epoll)]
    public async Task The_resp_port_works_over_the_engine(IoEngine engine)
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, On(engine, new RouterOptions { RespPort = 0 }));
        await using var resp = await Resp.RawRespClient.ConnectAsync(cluster.Router.RespPort!.Value);
        Assert.Equal("OK", await resp.CallAsync("SET", "r", "ok"));
        Assert.Equal("ok", await resp.CallAsync("GET", "r"));
    }

    [Theory]
    [InlineData(IoEngine.Sockets)]
    [InlineData(IoEngine.Epoll)]
    public async Task Stopping_the_router_with_clients_connected_returns_and_they_see_the_close(IoEngine engine)
    {
        var cluster = await TestCluster.StartAsync(nodes: 2, On(engine));
        var clients = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => cluster.ConnectAsync()));
        foreach (var client in clients)
            await client.SetAsync("k", "v");
        using var idle = await RawConnection.ConnectAsync(cluster.Router.Port);
        await cluster.DisposeAsync(); // bounded by TestCluster.Timeout
        Assert.True(await idle.IsClosedByPeerAsync());
        foreach (var client in clients)
        {
            await Assert.ThrowsAnyAsync<KvnDbException>(async () => await client.GetStringAsync("k"));
            await client.DisposeAsync();
        }
    }
}

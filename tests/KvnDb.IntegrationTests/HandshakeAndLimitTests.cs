using System.Buffers;
using System.Diagnostics;
using KvnDb.Client;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

public sealed class HandshakeAndLimitTests
{
    [Fact]
    public async Task Wrong_password_is_refused_clearly_and_delays_only_that_connection()
    {
        var delay = TimeSpan.FromSeconds(3);
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new RouterOptions { Password = "secret", AuthFailureDelay = delay });
        await using var good = await cluster.ConnectAsync();

        var watch = Stopwatch.StartNew();
        var refused = cluster.ConnectAsync(password: "wrong");
        // While the bad client waits out its delay, the good one keeps working at full speed.
        for (var i = 0; i < 50; i++)
            await good.SetAsync($"k{i}", "v");
        Assert.False(refused.IsCompleted, "the refusal should still be waiting out its delay");
        var error = await Assert.ThrowsAsync<KvnDbAuthenticationException>(() => refused);
        Assert.True(watch.Elapsed >= delay * 0.9, $"refused after {watch.Elapsed}, expected the {delay} delay");
        Assert.Contains("wrong password", error.Message);
        Assert.Equal("v", await good.GetStringAsync("k49"));
    }

    [Fact]
    public async Task Client_password_cannot_register_a_node()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0, new RouterOptions
        {
            Password = "client-pw", NodePassword = "node-pw", AuthFailureDelay = TimeSpan.Zero,
        });
        using var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
        await raw.SendHelloAsync("client-pw", role: ConnectionRole.Node);
        var reply = await raw.ReadFrameAsync();
        Assert.Equal(StatusCode.AuthFailed, reply!.Value.Header.Status);
        Assert.Equal(0, cluster.Router.NodeCount);
    }

    [Fact]
    public async Task Version_mismatch_gets_a_clear_error_and_close()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0);
        using var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
        await raw.SendHelloAsync(version: 99);
        var reply = await raw.ReadFrameAsync();
        Assert.Equal(StatusCode.VersionMismatch, reply!.Value.Header.Status);
        Assert.Contains($"router speaks {ProtocolLimits.Version}, peer sent 99", reply.Value.Body);
        Assert.True(await raw.IsClosedByPeerAsync());
    }

    [Fact]
    public async Task Request_before_hello_is_refused()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0);
        using var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
        await raw.SendFrameAsync(Opcode.Get, 5, "k"u8.ToArray());
        var reply = await raw.ReadFrameAsync();
        Assert.Equal(StatusCode.NotAuthorized, reply!.Value.Header.Status);
        Assert.True(await raw.IsClosedByPeerAsync());
    }

    [Fact]
    public async Task Oversized_frame_is_refused_and_closed_without_allocating_it_while_others_are_served()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var bystander = await cluster.ConnectAsync();
        using var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
        await raw.SendHelloAsync();
        Assert.Equal(StatusCode.Ok, (await raw.ReadFrameAsync())!.Value.Header.Status);

        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var header = new byte[ProtocolLimits.HeaderSize];
        new FrameHeader(int.MaxValue - 100, Opcode.Set, FrameFlags.None, StatusCode.Ok, 9).Write(header);
        await raw.SendAsync(header);
        var reply = await raw.ReadFrameAsync();
        Assert.Equal(StatusCode.FrameTooLarge, reply!.Value.Header.Status);
        Assert.Equal(9UL, reply.Value.Header.RequestId);
        Assert.True(await raw.IsClosedByPeerAsync());
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.True(allocated < 16 * 1024 * 1024, $"allocated {allocated} bytes after a 2 GiB claim");

        await bystander.SetAsync("still", "serving");
        Assert.Equal("serving", await bystander.GetStringAsync("still"));
    }

    [Fact]
    public async Task Unknown_opcode_is_refused_and_closed_while_others_are_served()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        await using var bystander = await cluster.ConnectAsync();
        using var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
        await raw.SendHelloAsync();
        await raw.ReadFrameAsync();
        await raw.SendFrameAsync((Opcode)0x7F, 3);
        var reply = await raw.ReadFrameAsync();
        Assert.Equal(StatusCode.UnknownOpcode, reply!.Value.Header.Status);
        Assert.Contains("0x7f", reply.Value.Body);
        Assert.True(await raw.IsClosedByPeerAsync());
        Assert.True(await bystander.PingAsync() > TimeSpan.Zero);
    }

    [Fact]
    public async Task Malformed_body_and_oversized_key_fail_alone_and_the_connection_lives()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new RouterOptions { MaxKeySize = 16 });
        using var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
        await raw.SendHelloAsync();
        await raw.ReadFrameAsync();

        await raw.SendFrameAsync(Opcode.Set, 1, "only-a-key"u8.ToArray());
        Assert.Equal(StatusCode.ProtocolError, (await raw.ReadFrameAsync())!.Value.Header.Status);

        await raw.SendFrameAsync(Opcode.Get, 2, new byte[17]);
        var tooLarge = await raw.ReadFrameAsync();
        Assert.Equal(StatusCode.KeyTooLarge, tooLarge!.Value.Header.Status);

        await raw.SendFrameAsync(Opcode.Set, 3, "k"u8.ToArray(), "v"u8.ToArray());
        var ok = await raw.ReadFrameAsync();
        Assert.Equal((StatusCode.Ok, 3UL), (ok!.Value.Header.Status, ok.Value.Header.RequestId));
    }

    [Fact]
    public async Task Client_refuses_to_send_a_frame_above_its_limit()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        await using var client = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = cluster.Router.Port, MaxFrameSize = 1024 });
        await Assert.ThrowsAsync<KvnDbProtocolException>(async () => await client.SetAsync("k", new string('x', 2048)));
        await client.SetAsync("k", "small");
        Assert.Equal("small", await client.GetStringAsync("k"));
    }
}

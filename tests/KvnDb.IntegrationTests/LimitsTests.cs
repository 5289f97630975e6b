using KvnDb.Client;
using System.Diagnostics;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

public sealed class LimitsTests
{
    [Fact]
    public async Task Without_a_password_the_router_refuses_a_non_loopback_address_unless_insecure()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => RouterHost.StartAsync(new RouterOptions { Host = "0.0.0.0", Port = 0 }));
        Assert.Contains("--insecure", error.Message);
        await using var insecure = await RouterHost.StartAsync(new RouterOptions { Host = "0.0.0.0", Port = 0, Insecure = true });
        await using var withPassword = await RouterHost.StartAsync(new RouterOptions { Host = "0.0.0.0", Port = 0, Password = "pw" });
        Assert.True(insecure.Port > 0 && withPassword.Port > 0);
    }

    [Fact]
    public async Task A_slowloris_connection_is_cut_at_the_handshake_timeout()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new RouterOptions { HandshakeTimeout = TimeSpan.FromSeconds(1) });
        using var slow = await RawConnection.ConnectAsync(cluster.Router.Port);
        var hello = RawConnection.Hello();
        var started = Stopwatch.StartNew();
        // One byte of the hello every 300 ms: each wait for the next byte is a wait for the router to cut
        // the connection, so the test moves on the moment it does.
        var closed = slow.IsClosedByPeerAsync();
        var cut = false;
        foreach (var b in hello)
        {
            try
            {
                await slow.SendAsync(new[] { b });
            }
            catch (System.Net.Sockets.SocketException)
            {
                cut = true;
                break;
            }
            try
            {
                await closed.WaitAsync(TimeSpan.FromMilliseconds(300));
                break;
            }
            catch (TimeoutException)
            {
                // still open: send the next byte
            }
            if (started.Elapsed > TimeSpan.FromSeconds(3))
                break;
        }
        Assert.True(cut || await closed, "the slow handshake should have been cut");
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(8));
        await using var client = await cluster.ConnectAsync();
        Assert.True(await client.PingAsync() > TimeSpan.Zero);
    }

    [Fact]
    public async Task A_client_that_never_reads_is_held_or_cut_while_others_are_served()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions
        {
            OutputLimitBytes = 4 * 1024 * 1024,
            MaxFrameSize = 2 * 1024 * 1024,
        });
        await using var good = await cluster.ConnectAsync();
        await good.SetAsync("big", new string('x', 1024 * 1024));

        using var greedy = await RawConnection.ConnectAsync(cluster.Router.Port);
        await greedy.SendHelloAsync();
        await greedy.ReadFrameAsync();
        // Ask for ~300 MiB of replies and never read them: the router stops reading it (or cuts it at the limit).
        for (var i = 0; i < 300; i++)
            await greedy.SendFrameAsync(Opcode.Get, (ulong)i + 10, "big"u8.ToArray());

        for (var i = 0; i < 200; i++)
        {
            await good.SetAsync($"k{i}", $"{i}");
            Assert.Equal($"{i}", await good.GetStringAsync($"k{i}"));
        }
        var stats = cluster.Router.Cluster.Stats;
        await Eventually.WaitAsync(() => stats.OutputsBackedUp + stats.OutputLimitCuts >= 1, what: "the greedy client held or cut");
    }

    [Fact]
    public async Task Requests_in_flight_per_client_are_bounded_by_back_pressure_and_all_complete()
    {
        const int limit = 8;
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { MaxInFlightPerClient = limit });
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("k", "v");

        var maxPending = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                maxPending = Math.Max(maxPending, cluster.Router.Cluster.PendingRequests);
                await Task.Yield();
            }
        });
        var reads = Enumerable.Range(0, 2000).Select(_ => client.GetStringAsync("k").AsTask()).ToArray();
        var values = await Task.WhenAll(reads).WaitAsync(TestCluster.Timeout);
        await stop.CancelAsync();
        await sampler;
        Assert.All(values, v => Assert.Equal("v", v));
        // A slot is freed just after its reply is written, so each node link may hold one slot more for a moment.
        Assert.InRange(maxPending, 1, limit + cluster.Nodes.Count);
    }

    [Fact]
    public async Task An_idle_client_is_closed_after_the_idle_timeout()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new RouterOptions { IdleTimeout = TimeSpan.FromSeconds(1) });
        using var idle = await RawConnection.ConnectAsync(cluster.Router.Port);
        await idle.SendHelloAsync();
        await idle.ReadFrameAsync();
        Assert.True(await idle.IsClosedByPeerAsync());
    }

    [Fact]
    public async Task An_idle_resp_client_is_closed_after_the_idle_timeout_too()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new RouterOptions { IdleTimeout = TimeSpan.FromSeconds(1), RespPort = 0 });
        using var idle = await RawConnection.ConnectAsync(cluster.Router.RespPort!.Value);
        await idle.SendAsync("PING\r\n"u8.ToArray());
        Assert.True(await idle.IsClosedByPeerAsync());
    }
}

using System.Text;
using KvnDb.Client;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

/// <summary>
/// A reader that does not read holds back only itself (issue 16): a client that asks for thousands of large values
/// and never reads its replies is held (the router stops reading it) or cut at its output limit, and never fills the
/// node links every other client's replies travel.
/// </summary>
public sealed class NonReadingClientTests
{
    private const int ValueSize = 256 * 1024;
    private const int Burst = 2048;

    /// <summary>Far below the burst: what the router reads of the greedy client before its output backs up.</summary>
    private const int ReadBound = Burst / 4;

    [Fact]
    public async Task A_native_client_that_never_reads_is_held_and_others_are_served()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var good = await cluster.ConnectAsync();
        await good.SetAsync("big"u8.ToArray(), new byte[ValueSize]);
        var stats = cluster.Router.Cluster.Stats;
        var readsBefore = stats.Reads;

        using var greedy = await RawConnection.ConnectAsync(cluster.Router.Port);
        await greedy.SendHelloAsync();
        await greedy.ReadFrameAsync();
        // 2048 Gets of a 256 KiB value (512 MiB of replies) in one burst, never read.
        await greedy.SendAsync(writer =>
        {
            for (var i = 0; i < Burst; i++)
                KeyRequest.Write(writer, Opcode.Get, FrameFlags.None, (ulong)i + 10, "big"u8);
        });

        await AssertHeldOrCutAsync(cluster, () => greedy.IsClosedByPeerAsync());
        var greedyReads = stats.Reads - readsBefore;
        await AssertOthersAreServedAsync(good);
        Assert.InRange(greedyReads, 1, ReadBound);
    }

    [Fact]
    public async Task A_resp_client_that_never_reads_is_held_and_others_are_served()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { RespPort = 0 });
        await using var good = await cluster.ConnectAsync();
        await good.SetAsync("big"u8.ToArray(), new byte[ValueSize]);
        var stats = cluster.Router.Cluster.Stats;
        var readsBefore = stats.Reads;

        using var greedy = await RawConnection.ConnectAsync(cluster.Router.RespPort!.Value);
        var burst = new StringBuilder();
        for (var i = 0; i < Burst; i++)
            burst.Append("*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n");
        await greedy.SendAsync(Encoding.ASCII.GetBytes(burst.ToString()));

        await AssertHeldOrCutAsync(cluster, () => greedy.IsClosedByPeerAsync());
        var greedyReads = stats.Reads - readsBefore;
        await AssertOthersAreServedAsync(good);

        // A well-behaved RESP client on the same port is served too.
        await using var resp = await Resp.RawRespClient.ConnectAsync(cluster.Router.RespPort!.Value);
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal("OK", await resp.CallAsync("SET", $"r{i}", $"{i}"));
            Assert.Equal($"{i}", await resp.CallAsync("GET", $"r{i}"));
        }
        Assert.InRange(greedyReads, 1, ReadBound);
    }

    [Fact]
    public async Task A_client_whose_replies_in_flight_pass_the_output_limit_is_cut_with_a_count_in_info()
    {
        // A window that has grown on small replies, then a burst of large ones: what was in flight passes the limit.
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions
        {
            OutputLimitBytes = 4 * 1024 * 1024,
            MaxFrameSize = 2 * 1024 * 1024,
        });
        await using var good = await cluster.ConnectAsync();
        await good.SetAsync("big"u8.ToArray(), new byte[1024 * 1024]);
        await good.SetAsync("small", "s");

        using var greedy = await RawConnection.ConnectAsync(cluster.Router.Port);
        await greedy.SendHelloAsync();
        await greedy.ReadFrameAsync();
        // Small Gets it reads, so its window widens...
        for (var round = 0; round < 8; round++)
        {
            await greedy.SendAsync(writer =>
            {
                for (var i = 0; i < 64; i++)
                    KeyRequest.Write(writer, Opcode.Get, FrameFlags.None, (ulong)i, "small"u8);
            });
            for (var i = 0; i < 64; i++)
                Assert.Equal(StatusCode.Ok, (await greedy.ReadRawFrameAsync())!.Header.Status);
        }
        // ...then 300 MiB of large ones it never reads.
        await greedy.SendAsync(writer =>
        {
            for (var i = 0; i < 300; i++)
                KeyRequest.Write(writer, Opcode.Get, FrameFlags.None, (ulong)i + 1000, "big"u8);
        });

        await AssertHeldOrCutAsync(cluster, () => greedy.IsClosedByPeerAsync());
        await AssertOthersAreServedAsync(good);
        var info = await RouterInfo.ReadAsync(good);
        Assert.True(info.GetInt64("clients_cut_output_limit") + info.GetInt64("clients_backpressured") >= 1, info.ToText());
    }

    [Fact]
    public async Task A_client_that_widens_its_window_on_small_replies_then_asks_for_large_values_gets_only_its_reply_budget_admitted()
    {
        // The warm-up attack: thousands of small replies read back widen the window to thousands; a burst of large Gets
        // must still put at most the reply budget (half the output limit: 4 MiB here, four values) on the node links.
        const int Large = 1024 * 1024;
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions
        {
            OutputLimitBytes = 8 * 1024 * 1024,
            MaxFrameSize = 2 * 1024 * 1024,
        });
        await using var good = await cluster.ConnectAsync();
        await good.SetAsync("big"u8.ToArray(), new byte[Large]);
        await good.SetAsync("small", "s");
        var stats = cluster.Router.Cluster.Stats;

        using var greedy = await RawConnection.ConnectAsync(cluster.Router.Port);
        await greedy.SendHelloAsync();
        await greedy.ReadFrameAsync();
        for (var round = 0; round < 16; round++)
        {
            await greedy.SendAsync(writer =>
            {
                for (var i = 0; i < 256; i++)
                    KeyRequest.Write(writer, Opcode.Get, FrameFlags.None, (ulong)i, "small"u8);
            });
            for (var i = 0; i < 256; i++)
                Assert.Equal(StatusCode.Ok, (await greedy.ReadRawFrameAsync())!.Header.Status);
        }
        var readsBefore = stats.Reads;
        await greedy.SendAsync(writer =>
        {
            for (var i = 0; i < 1000; i++)
                KeyRequest.Write(writer, Opcode.Get, FrameFlags.None, (ulong)i + 10_000, "big"u8);
        });

        await AssertHeldOrCutAsync(cluster, () => greedy.IsClosedByPeerAsync());
        var greedyReads = stats.Reads - readsBefore;
        await AssertOthersAreServedAsync(good);
        // At most three values in flight at once (the 4 MiB budget); the reads admitted in all are those plus what drained
        // into the kernel's socket buffers and the 4 MiB the transport holds before the router stops reading: a few
        // dozen MiB at most, where the widened window let all 1,000 (1 GB) onto the node links.
        Assert.InRange(greedyReads, 1, 32);
        Assert.Equal(0, stats.OutputLimitCuts);
    }

    /// <summary>The router either stopped reading the greedy client (its output is backed up) or cut it off.</summary>
    private static async Task AssertHeldOrCutAsync(TestCluster cluster, Func<Task<bool>> isClosed)
    {
        var stats = cluster.Router.Cluster.Stats;
        await Eventually.WaitAsync(() => stats.OutputsBackedUp >= 1 || stats.OutputLimitCuts >= 1, what: "the greedy client held or cut");
        if (stats.OutputLimitCuts >= 1)
            Assert.True(await isClosed());
    }

    /// <summary>Writes and reads of every other client keep completing, with the right values.</summary>
    private static async Task AssertOthersAreServedAsync(KvnDbClient good)
    {
        for (var i = 0; i < 200; i++)
        {
            await good.SetAsync($"k{i}", $"{i}");
            Assert.Equal($"{i}", await good.GetStringAsync($"k{i}"));
        }
        Assert.True(await good.GetAsync("big") is { Length: ValueSize or 1024 * 1024 });
    }
}

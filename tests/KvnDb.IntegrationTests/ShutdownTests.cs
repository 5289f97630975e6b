using System.Diagnostics;
using System.Globalization;
using System.Text;
using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using Xunit.Abstractions;

namespace KvnDb.IntegrationTests;

/// <summary>Issue 16: SIGTERM took 5.2 s with one node connected (Kestrel's stop timeout), since links never heard the stop.</summary>
public sealed class ShutdownTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_client_whose_output_is_backed_up_still_gets_the_closing_notice_when_the_router_stops()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        await using (var writer = await cluster.ConnectAsync())
            await writer.SetAsync("big"u8.ToArray(), new byte[1024 * 1024]);
        using var slow = await RawConnection.ConnectAsync(cluster.Router.Port);
        await slow.SendHelloAsync();
        Assert.Equal(StatusCode.Ok, (await slow.ReadRawFrameAsync())!.Header.Status);
        // 64 MiB of replies it does not read yet: its output backs up and the router holds the rest for it.
        await slow.SendAsync(frames =>
        {
            for (var i = 0; i < 64; i++)
                KeyRequest.Write(frames, Opcode.Get, FrameFlags.None, (ulong)i + 10, "big"u8);
        });
        var stats = cluster.Router.Cluster.Stats;
        await Eventually.WaitAsync(() => stats.OutputsBackedUp >= 1, what: "the slow client's output backed up");

        var restart = cluster.RestartRouterAsync();
        // It reads now: the replies the transport already held, then the notice (the ones the router held are dropped).
        var replies = 0;
        ReceivedFrame? frame;
        while ((frame = await slow.ReadRawFrameAsync()) is { Header.Opcode: Opcode.Get })
            replies++;
        await restart;
        output.WriteLine($"{replies} replies before the last frame");
        Assert.NotNull(frame);
        Assert.Equal(Opcode.Closing, frame.Header.Opcode);
        Assert.Equal(StatusCode.Unavailable, frame.Header.Status);
        Assert.InRange(replies, 1, 63);
    }

    [Fact]
    public async Task Sigterm_stops_the_router_at_once_nodes_hear_it_stop_and_reconnect_to_the_next_one()
    {
        var port = ChildProcess.FreePort();
        using var routerData = new TempDirectory();
        string[] arguments = ["--port", port.ToString(CultureInfo.InvariantCulture), "--data", routerData.Path];
        var router = ChildProcess.StartProgram("Router", "kvndb-router", arguments);
        var node = TestNode.Start(new NodeOptions { RouterPort = port, MaxReconnectDelay = TimeSpan.FromMilliseconds(300) }, new RamStorageEngine(), new NodeIdentity(null));
        try
        {
            var options = new KvnDbClientOptions { Port = port, RequestTimeout = TimeSpan.FromSeconds(5) };
            await using var client = await RouterCrashTests.ConnectWithRetryAsync(options);
            await RouterCrashTests.WaitForServingAsync(client, 1);
            await client.SetAsync("before", "the stop");
            await using var watcher = await HostileNode.ConnectAsync(port); // a node played by hand, to see the last frame
            await RouterCrashTests.WaitForServingAsync(client, 2);
            using var rawClient = await RawConnection.ConnectAsync(port);
            await rawClient.SendHelloAsync();
            Assert.Equal(StatusCode.Ok, (await rawClient.ReadRawFrameAsync())!.Header.Status);

            var stopping = Stopwatch.StartNew();
            var exitCode = await router.TerminateAsync(TestCluster.Timeout);
            stopping.Stop();
            output.WriteLine($"SIGTERM to exit with 2 nodes and 2 clients connected: {stopping.ElapsedMilliseconds} ms");

            Assert.Equal(0, exitCode);
            var closing = await watcher.Closing.WaitAsync(TestCluster.Timeout);
            Assert.Equal(StatusCode.Unavailable, closing.Header.Status);
            Assert.Contains("stopping", Encoding.UTF8.GetString(closing.Body), StringComparison.Ordinal);
            var clientClosing = await rawClient.ReadRawFrameAsync();
            Assert.Equal(Opcode.Closing, clientClosing!.Header.Opcode);
            Assert.Equal(StatusCode.Unavailable, clientClosing.Header.Status);
            // Generous against a loaded machine; the stop used to take Kestrel's whole 5 s timeout.
            Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(4), $"stopped in {stopping.Elapsed}\n{router.Output}");

            // The node took the close as a clean one and reconnects, with its backoff, to the next router on the port.
            router = ChildProcess.StartProgram("Router", "kvndb-router", arguments);
            await Eventually.WaitAsync(() => node.Node.ConnectionCount >= 2, what: "the node reconnected to the restarted router");
            await RouterCrashTests.WaitForServingAsync(client, 1);
            Assert.Equal("the stop", await Eventually.SucceedsAsync<KvnDbException, string?>(() => client.GetStringAsync("before").AsTask()));
        }
        finally
        {
            await node.StopAsync();
            await router.DisposeAsync();
        }
    }
}

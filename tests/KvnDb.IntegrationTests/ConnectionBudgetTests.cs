using System.Diagnostics;
using System.Net.Sockets;
using KvnDb.Client;
using KvnDb.Protocol;
using KvnDb.Router;
using Xunit.Abstractions;

namespace KvnDb.IntegrationTests;

/// <summary>
/// Issue 16: connection budgets. The limit counts across ports, nodes have room of their own, and connections waiting
/// out the auth-failure delay hold neither a place in the budget nor buffered input.
/// </summary>
public sealed class ConnectionBudgetTests(ITestOutputHelper output)
{
    private const int Flood = 2000;

    [Fact]
    public async Task Two_thousand_connections_in_the_auth_failure_delay_hold_no_place_and_a_good_client_goes_on()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new RouterOptions
        {
            Password = "right", MaxConnections = 1000, AuthFailureDelay = TimeSpan.FromSeconds(10),
            NodeTimeout = TimeSpan.FromSeconds(10), NodeEvictTimeout = TimeSpan.FromSeconds(20), // 4,000 sockets in one process on two cores: the node is slow, not gone
        });
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("k", "v");
        var before = await LatencyAsync(client);
        GC.Collect();
        var heapBefore = GC.GetTotalMemory(forceFullCollection: true);

        // Each says a wrong password, then 60 KiB more: before auth, nothing after the hello is read or kept.
        var junk = new byte[60 * 1024];
        var attackers = new List<RawConnection>();
        for (var batch = 0; batch < Flood / 100; batch++)
        {
            var opened = await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
            {
                var attacker = await RawConnection.ConnectAsync(cluster.Router.Port);
                await attacker.SendAsync(RawConnection.Hello("wrong"));
                try
                {
                    await attacker.SendAsync(junk);
                }
                catch (SocketException)
                {
                    // The router stopped reading it: the kernel's buffers are full, which is the point.
                }
                return attacker;
            }));
            attackers.AddRange(opened);
        }
        await Eventually.WaitAsync(() => RouterInfoField(cluster, "auth_failures") >= Flood, what: "every wrong password judged");

        // While all of them wait out their delay: the budget holds the good client only, and a new client connects at once.
        var counts = cluster.Router.ConnectionCounts;
        var during = await LatencyAsync(client);
        GC.Collect();
        var heapDuring = GC.GetTotalMemory(forceFullCollection: true);
        await using var late = await cluster.ConnectAsync();
        Assert.Equal("v", await late.GetStringAsync("k"));
        output.WriteLine($"{Flood} connections in the auth-failure delay: open {counts.Open}, budgeted clients {counts.Clients}, refused {counts.Refused}");
        output.WriteLine($"good client GET p50/p99 before: {before.P50:0.000}/{before.P99:0.000} ms, during: {during.P50:0.000}/{during.P99:0.000} ms");
        output.WriteLine($"managed heap (router, nodes and test in one process): before {heapBefore / 1024.0 / 1024.0:0.0} MiB, during {heapDuring / 1024.0 / 1024.0:0.0} MiB");
        Assert.True(counts.Clients < 100, $"{counts.Clients} places held while {Flood} connections wait out a wrong password");
        Assert.Equal(0, counts.Refused);

        // Each is refused, in the end, with the reason.
        foreach (var attacker in attackers.Take(50))
        {
            var frame = await attacker.ReadRawFrameAsync();
            Assert.Equal(StatusCode.AuthFailed, frame!.Header.Status);
        }
        foreach (var attacker in attackers)
            attacker.Dispose();
    }

    [Fact]
    public async Task The_limit_counts_across_ports_and_nodes_keep_room_of_their_own()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new RouterOptions { MaxConnections = 4, RespPort = 0, HandshakeTimeout = TimeSpan.FromSeconds(30) });
        var respPort = cluster.Router.RespPort!.Value;
        // Two silent connections on each port fill the client budget (unauthenticated ones count: they may become clients).
        var silent = new List<Socket>();
        foreach (var port in new[] { cluster.Router.Port, cluster.Router.Port, respPort, respPort })
        {
            var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync("127.0.0.1", port);
            silent.Add(socket);
        }
        await Eventually.WaitAsync(() => cluster.Router.ConnectionCounts.Clients == 4, what: "four places taken");

        // A fifth, on either port, is refused; a client on the node reserve is refused at its hello.
        Assert.True(await IsRefusedAsync(respPort)); // closed at once, before any protocol
        using (var native = await RawConnection.ConnectAsync(cluster.Router.Port))
        {
            await native.SendHelloAsync();
            var refused = await native.ReadRawFrameAsync();
            Assert.Equal(StatusCode.Busy, refused!.Header.Status);
        }

        // A node still joins: it has room of its own.
        cluster.StartNode();
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        Assert.Equal(2, cluster.Router.ConnectionCounts.Nodes);
        foreach (var socket in silent)
            socket.Dispose();
        await Eventually.WaitAsync(() => cluster.Router.ConnectionCounts.Clients == 0, what: "the places given back");
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("k", "v");
    }

    /// <summary>True when a connection to <paramref name="port"/> is closed by the router at once (a reset may even reach the connect).</summary>
    private static async Task<bool> IsRefusedAsync(int port)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync("127.0.0.1", port).WaitAsync(TestCluster.Timeout);
            return await socket.ReceiveAsync(new byte[16], SocketFlags.None).WaitAsync(TestCluster.Timeout) == 0;
        }
        catch (SocketException)
        {
            return true; // reset
        }
    }

    private static long RouterInfoField(TestCluster cluster, string name)
    {
        foreach (var line in cluster.Router.Info.Split('\n'))
            if (line.StartsWith(name + ": ", StringComparison.Ordinal))
                return long.Parse(line[(name.Length + 2)..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
        return -1;
    }

    private static async Task<(double P50, double P99)> LatencyAsync(KvnDbClient client)
    {
        var samples = new double[2000];
        for (var i = 0; i < samples.Length; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await client.GetAsync("k"u8.ToArray());
            samples[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        Array.Sort(samples);
        return (samples[samples.Length / 2], samples[(int)(samples.Length * 0.99)]);
    }
}

using System.Diagnostics;
using System.Globalization;
using KvnDb.Client;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Router;
using KvnDb.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace KvnDb.FaultTests.Storage;

/// <summary>
/// Nodes whose data folder is a 20 MiB tmpfs, filled for real through the router (issue 19, "disk full is
/// invisible"): writes are refused with an error that reaches the client, nothing acknowledged is lost, the
/// nodes leave serving, and they serve again (equal digests) once the tmpfs is remounted bigger. The router
/// runs in-process; the nodes are real <c>kvndb-node</c> processes where the exit code matters. Needs root
/// (mount); skips and says why otherwise.
/// </summary>
public sealed class FullDiskTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private const long DiskBytes = 20L << 20;
    private const long BiggerDiskBytes = 96L << 20;

    [SkippableFact]
    public async Task A_full_disk_refuses_writes_loses_nothing_acknowledged_and_the_nodes_serve_again_when_space_returns()
    {
        var unavailable = await TmpfsMount.UnavailableReasonAsync();
        Skip.If(unavailable is not null, unavailable);
        await using var diskA = await TmpfsMount.MountAsync(DiskBytes);
        await using var diskB = await TmpfsMount.MountAsync(DiskBytes);
        await using var router = await StartRouterAsync();
        await using var nodeA = StartNode(router, diskA.PathOf("data"));
        await using var nodeB = StartNode(router, diskB.PathOf("data"));
        await router.WaitForServingNodesAsync(2, Timeout);
        await using var client = await ConnectAsync(router);

        // Fill both disks through the router until writes are refused, five times in a row.
        var acknowledged = new Dictionary<string, string>();
        var refusals = new List<KvnDbException>();
        var written = 0;
        for (; written < 50_000 && refusals.Count < 5; written++)
        {
            var (key, value) = Record(written);
            try
            {
                await client.SetAsync(key, value);
                acknowledged[key] = value;
                refusals.Clear();
            }
            catch (KvnDbException ex) when (ex.Status is StatusCode.StorageUnavailable or StatusCode.Unavailable)
            {
                refusals.Add(ex);
            }
        }
        output.WriteLine($"{acknowledged.Count} writes acknowledged of {written}; refusals: {string.Join(" | ", refusals.Select(r => $"{r.Status}: {r.Message}"))}");
        Assert.True(refusals.Count == 5, $"the disks never filled: {written} writes, {acknowledged.Count} acknowledged");
        Assert.All(refusals, r => Assert.Contains("storage", r.Message, StringComparison.Ordinal));
        await Eventually.WaitAsync(() => router.ServingNodeCount == 0, Timeout, "both nodes leaving serving");
        var info = await RouterInfo.ReadAsync(client);
        output.WriteLine(router.Info);
        Assert.Contains("storage", info.Unavailable, StringComparison.Ordinal);
        foreach (var number in new[] { 1, 2 })
        {
            var departure = info.Departure(number);
            Assert.True(departure is not null && departure.Contains("storage=refusing_writes", StringComparison.Ordinal),
                $"info does not show node {number}'s full disk: {departure}\n{router.Info}");
        }

        // The disks are full for real (the nodes checkpoint as they fill): no probe lets a node back yet.
        foreach (var (disk, node) in new[] { (diskA, nodeA), (diskB, nodeB) })
        {
            var free = new DriveInfo(disk.Path).AvailableFreeSpace;
            Assert.True(free < 4L << 20, $"refused with {free} bytes still free on {disk.Path}");
            Assert.DoesNotContain("Storage takes writes again", node.Output, StringComparison.Ordinal);
        }

        // Space returns: both nodes find out by themselves, rejoin and hold every acknowledged write.
        await diskA.ResizeAsync(BiggerDiskBytes);
        await diskB.ResizeAsync(BiggerDiskBytes);
        await router.WaitForServingNodesAsync(2, Timeout);
        foreach (var (key, value) in acknowledged)
            Assert.Equal(value, await client.GetStringAsync(key));
        await client.SetAsync("after", "space returned");
        var digests = await client.DigestAsync();
        Assert.Equal(2, digests.Count(d => d.State == NodeState.Serving));
        Assert.Single(digests.Select(d => d.Digest).Distinct());
        info = await RouterInfo.ReadAsync(client);
        Assert.All(info.Nodes, n =>
        {
            Assert.Equal("ok", n.Storage);
            Assert.True(n.FreeBytes > DiskBytes, $"node{n.Id} reports {n.FreeBytes} bytes free");
        });

        // A clean stop: the final checkpoint, then out within 2 s.
        foreach (var node in new[] { nodeA, nodeB })
            await AssertStopsSoonAfterItsFinalCheckpointAsync(node);
    }

    [SkippableFact]
    public async Task A_node_stopped_on_a_full_disk_exits_non_zero_saying_why_and_loses_nothing_acknowledged()
    {
        var unavailable = await TmpfsMount.UnavailableReasonAsync();
        Skip.If(unavailable is not null, unavailable);
        await using var disk = await TmpfsMount.MountAsync(DiskBytes);
        await using var router = await StartRouterAsync();
        var data = disk.PathOf("data");
        var acknowledged = new Dictionary<string, string>();
        await using var client = await ConnectAsync(router);
        await using (var node = StartNode(router, data, checkpointSeconds: 0))
        {
            await router.WaitForServingNodesAsync(1, Timeout);
            for (var i = 0; i < 1000; i++) // 4 MiB, only in memory: no checkpoint before the stop
            {
                var (key, value) = Record(i);
                await client.SetAsync(key, value);
                acknowledged[key] = value;
            }

            // The disk fills up under the running node; its final checkpoint has nowhere to go.
            output.WriteLine($"filler: {disk.Fill("filler")} bytes");
            var stopping = Stopwatch.StartNew();
            var exitCode = await node.TerminateAsync(Timeout);
            output.WriteLine($"exit code {exitCode} after {stopping.ElapsedMilliseconds} ms\n{node.Output}");
            Assert.Equal(3, exitCode);
            Assert.Contains("WITHOUT its final checkpoint", node.Output, StringComparison.Ordinal);
        }

        // Space returns and the node starts again: the router's log gives it back every acknowledged write.
        File.Delete(disk.PathOf("filler"));
        await using var restarted = StartNode(router, data);
        await router.WaitForServingNodesAsync(1, Timeout);
        foreach (var (key, value) in acknowledged)
            Assert.Equal(value, await client.GetStringAsync(key));
        Assert.Equal(0, await restarted.TerminateAsync(Timeout));
    }

    [SkippableFact]
    public async Task A_write_that_meets_a_real_ENOSPC_reopens_the_store_once_space_returns_and_the_node_catches_up()
    {
        var unavailable = await TmpfsMount.UnavailableReasonAsync();
        Skip.If(unavailable is not null, unavailable);
        await using var disk = await TmpfsMount.MountAsync(DiskBytes);
        // Without the free-space check, FASTER itself meets ENOSPC: a page write fails and the store is stuck.
        var engine = FasterStorageEngine.Open(disk.PathOf("data"), new StorageOptions
        {
            Engine = "faster",
            DataDirectory = disk.PathOf("data"),
            MemoryBytes = 128L << 20,
            CheckFreeSpace = false,
            ReserveBytes = 0,
            CheckpointInterval = TimeSpan.FromSeconds(1),
        }, NullLogger.Instance);
        var acknowledged = new Dictionary<string, string>();
        await using (var cluster = await TestCluster.StartAsync(nodes: 1, new RouterOptions { BacklogBytes = 512L << 20 }))
        {
            cluster.StartNode(engine);
            await cluster.Router.WaitForServingNodesAsync(2, Timeout);
            await using var client = await cluster.ConnectAsync();
            var i = 0;
            for (; i < 50_000 && !engine.Health.RefusesWrites; i++)
            {
                var (key, value) = Record(i);
                await client.SetAsync(key, value); // the ram node is in sync: every write is acknowledged
                acknowledged[key] = value;
            }
            output.WriteLine($"{i} writes until the store refused: {engine.Health.Refusal}");
            Assert.True(engine.Health.RefusesWrites, $"{i} writes of 4 KiB never filled a 20 MiB disk");
            Assert.Contains("no space left on device", engine.Health.Refusal, StringComparison.Ordinal);
            await Eventually.WaitAsync(() => cluster.Router.ServingNodeCount == 1, Timeout, "the stuck node leaving serving");
            for (var j = 0; j < 100; j++, i++)
            {
                var (key, value) = Record(i);
                await client.SetAsync(key, value);
                acknowledged[key] = value;
            }

            await disk.ResizeAsync(BiggerDiskBytes);
            await cluster.Router.WaitForServingNodesAsync(2, Timeout);
            Assert.False(engine.Health.RefusesWrites);
            var digests = await client.DigestAsync();
            Assert.Equal(2, digests.Count(d => d.State == NodeState.Serving));
            Assert.Single(digests.Select(d => d.Digest).Distinct());
            foreach (var (key, value) in acknowledged)
                Assert.Equal(value, await client.GetStringAsync(key));
        }
        await engine.DisposeAsync();
        Assert.Null(engine.Health.ShutdownFailure);
    }

    private async Task AssertStopsSoonAfterItsFinalCheckpointAsync(ChildProcess node)
    {
        var checkpointed = node.WaitForLineAsync("closed with a final checkpoint", Timeout, standardError: true);
        var stopping = Stopwatch.StartNew();
        await node.SignalAsync("TERM");
        await checkpointed;
        var afterCheckpoint = Stopwatch.StartNew();
        var exitCode = await node.WaitForExitAsync(Timeout);
        output.WriteLine($"node {node.Id}: exit {exitCode}, {stopping.ElapsedMilliseconds} ms after SIGTERM, {afterCheckpoint.ElapsedMilliseconds} ms after its final checkpoint");
        Assert.Equal(0, exitCode);
        Assert.True(afterCheckpoint.Elapsed < TimeSpan.FromSeconds(2), $"the node took {afterCheckpoint.ElapsedMilliseconds} ms to exit after its final checkpoint\n{node.Output}");
    }

    private static (string Key, string Value) Record(int i) => ($"k{i:D6}", $"{i:D6}:{new string((char)('a' + i % 26), 4089)}"); // 4 KiB values

    private static Task<RouterHost> StartRouterAsync() =>
        RouterHost.StartAsync(new RouterOptions { Port = 0, BacklogBytes = 512L << 20, JoinGrace = TimeSpan.FromMilliseconds(100) });

    private static ChildProcess StartNode(RouterHost router, string data, int checkpointSeconds = 1)
    {
        var arguments = new List<string>
        {
            "--engine", "faster", "--data", data, "--memory", "64m", "--reserve-space", "1m", "--expected-keys", "4096",
            "--checkpoint-interval", checkpointSeconds.ToString(CultureInfo.InvariantCulture),
            "--host", "127.0.0.1", "--port", router.Port.ToString(CultureInfo.InvariantCulture),
        };
        if (router.Options.NodePassword is { Length: > 0 } nodePassword)
            arguments.AddRange(["--password", nodePassword]);
        return ChildProcess.StartProgram("NodeHost", "kvndb-node", arguments);
    }

    private static Task<KvnDbClient> ConnectAsync(RouterHost router) =>
        KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = router.Port, Password = router.Options.Password, RequestTimeout = Timeout });
}

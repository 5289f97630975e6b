using System.Text.Json.Nodes;
using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Router;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.IntegrationTests;

/// <summary>
/// A node's data folder is its own and is read only in a format the node knows: real <c>kvndb-node</c>
/// processes on real FASTER folders (issue 19: lock, format stamp, one-shot reset, no wipe before a donor).
/// </summary>
public sealed class FolderSafetyTests
{
    private static readonly TimeSpan Timeout = NodeProcess.Timeout;

    [Fact]
    public async Task A_second_node_on_the_same_folder_refuses_to_start_naming_the_holder()
    {
        await using var router = await RouterHost.StartAsync(new RouterOptions { Port = 0 });
        using var data = new TempDirectory();
        await using var first = NodeProcess.Start(router, data.Path);
        await router.WaitForServingNodesAsync(1, Timeout);

        // What .NET's FileShare.None takes on Linux is a real flock, held by the node's process: the kernel lists it.
        if (File.Exists("/proc/locks"))
            Assert.Contains(await File.ReadAllLinesAsync("/proc/locks"), line => line.Contains("FLOCK", StringComparison.Ordinal)
                && line.Contains("WRITE", StringComparison.Ordinal) && line.Contains($" {first.Id} ", StringComparison.Ordinal));

        await using var second = NodeProcess.Start(router, data.Path);
        Assert.Equal(1, await second.WaitForExitAsync(Timeout));
        Assert.Contains($"in use by another kvndb-node (pid {first.Id}", second.Output);
        Assert.DoesNotContain("Node starting", second.Output);

        // The holder was not disturbed.
        await using var client = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = router.Port, RequestTimeout = Timeout });
        await client.SetAsync("still", "mine");
        Assert.Equal("mine", await client.GetStringAsync("still"));
        Assert.Equal(1, router.NodeCount);
        await NodeProcess.StopAsync(first);
    }

    [Fact]
    public async Task A_folder_written_by_this_build_then_stamped_as_an_older_layout_is_refused_and_left_alone()
    {
        await using var router = await RouterHost.StartAsync(new RouterOptions { Port = 0 });
        using var data = new TempDirectory();
        await using (var node = NodeProcess.Start(router, data.Path))
        {
            await router.WaitForServingNodesAsync(1, Timeout);
            await using var client = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = router.Port, RequestTimeout = Timeout });
            for (var i = 0; i < 50; i++)
                await client.SetAsync($"k{i}", $"v{i}");
            await NodeProcess.StopAsync(node);
        }
        var stampFile = data.PathOf(FormatStamp.FileName);
        var stamp = JsonNode.Parse(await File.ReadAllTextAsync(stampFile))!.AsObject();
        Assert.Equal(FormatStamp.CurrentRecordLayout, (int)stamp["recordLayout"]!);
        stamp["recordLayout"] = FormatStamp.OldestReadableRecordLayout - 1;
        await File.WriteAllTextAsync(stampFile, stamp.ToJsonString());
        var files = Snapshot(data.Path);

        await using (var older = NodeProcess.Start(router, data.Path))
        {
            Assert.Equal(1, await older.WaitForExitAsync(Timeout));
            Assert.Contains("written by an older build", older.Output);
            Assert.Contains($"record layout {FormatStamp.OldestReadableRecordLayout - 1}", older.Output);
        }
        Assert.Equal(files, Snapshot(data.Path)); // refused before the engine touched a file

        // The same data with no stamp at all (as an older build left it): refused too.
        File.Delete(stampFile);
        var (exitCode, output) = await NodeProcess.RunAsync("--engine", "faster", "--data", data.Path, "--port", "1");
        Assert.Equal(1, exitCode);
        Assert.Contains("no format stamp", output);
        Assert.False(File.Exists(stampFile));
    }

    [Fact]
    public async Task Reset_is_one_shot_and_keeps_the_data_until_a_donor_streams_it_serving_nothing_meanwhile()
    {
        await using var router = await RouterHost.StartAsync(new RouterOptions { Port = 0 });
        using var dataA = new TempDirectory();
        using var dataB = new TempDirectory();
        await using var processes = new Processes();
        await using var client = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = router.Port, RequestTimeout = Timeout });

        var a = processes.Add(NodeProcess.Start(router, dataA.Path));
        var b = processes.Add(NodeProcess.Start(router, dataB.Path));
        await router.WaitForServingNodesAsync(2, Timeout);
        for (var i = 0; i < 100; i++)
            await client.SetAsync($"k{i}", $"v{i}");
        // B stops first, then A moves on without it: B's data is now behind A's (a key added, a key deleted).
        await NodeProcess.StopAsync(b);
        await Eventually.WaitAsync(() => router.NodeCount == 1, Timeout, "B gone");
        await client.SetAsync("only-on-a", "new");
        Assert.True(await client.DeleteAsync("k0"));
        await NodeProcess.StopAsync(a); // A, the last in-sync member, stays in the set while away
        await Eventually.WaitAsync(() => router.NodeCount == 0, Timeout, "A gone");

        var (exitCode, output) = await NodeProcess.RunAsync("reset", "--data", dataB.Path);
        Assert.True(exitCode == 0, output);
        var marker = new ResetMarker(dataB.Path);
        Assert.True(marker.Exists);
        var oldNodeId = await File.ReadAllTextAsync(dataB.PathOf("node-id"));

        // No donor: B takes a new identity, keeps its 100 keys, serves nothing, and the router serves nothing.
        b = processes.Add(NodeProcess.Start(router, dataB.Path));
        await b.WaitForLineAsync("Reset (", Timeout, standardError: true);
        await Eventually.WaitAsync(() => router.NodeCount == 1, Timeout, "B connected");
        var resetNodeId = await File.ReadAllTextAsync(dataB.PathOf("node-id"));
        Assert.NotEqual(oldNodeId, resetNodeId);
        Assert.Equal(0, router.ServingNodeCount);
        await Assert.ThrowsAsync<KvnDbUnavailableException>(async () => await client.GetStringAsync("k1"));
        await Assert.ThrowsAsync<KvnDbUnavailableException>(async () => await client.SetAsync("k1", "lost?"));
        var waiting = (await client.DigestAsync()).Single(d => d.State == NodeState.Syncing);
        Assert.Equal(100UL, waiting.Digest.KeyCount);

        // Stopped while waiting: its files still hold all 100 keys, and the reset stays pending.
        await NodeProcess.StopAsync(b);
        await Eventually.WaitAsync(() => router.NodeCount == 0, Timeout, "B gone again");
        Assert.Equal(100, await KeysInCopyAsync(dataB.Path));
        Assert.True(marker.Exists);

        // A supervisor restart with the same arguments: no new reset, the same waiting node.
        b = processes.Add(NodeProcess.Start(router, dataB.Path));
        await b.WaitForLineAsync("A reset is still pending", Timeout, standardError: true);
        Assert.Equal(resetNodeId, await File.ReadAllTextAsync(dataB.PathOf("node-id")));

        // A donor comes back: B copies its data (the added key appears, the deleted one goes), then serves.
        a = processes.Add(NodeProcess.Start(router, dataA.Path));
        await router.WaitForServingNodesAsync(2, Timeout);
        Assert.False(marker.Exists, "the reset marker outlived the sync");
        var digests = await client.DigestAsync();
        Assert.Equal(2, digests.Count(d => d.State == NodeState.Serving));
        Assert.All(digests, d => Assert.Equal(100UL, d.Digest.KeyCount));
        Assert.Single(digests.Select(d => d.Digest.ContentHash).Distinct());
        Assert.Equal("new", await client.GetStringAsync("only-on-a"));
        Assert.Null(await client.GetStringAsync("k0"));

        // Restarted once more, B is an ordinary node: no reset, its id kept.
        await NodeProcess.StopAsync(b);
        await Eventually.WaitAsync(() => router.NodeCount == 1, Timeout, "B gone once more");
        b = processes.Add(NodeProcess.Start(router, dataB.Path));
        await router.WaitForServingNodesAsync(2, Timeout);
        Assert.DoesNotContain("Reset (", b.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("reset is still pending", b.Output, StringComparison.Ordinal);
        Assert.Equal(resetNodeId, await File.ReadAllTextAsync(dataB.PathOf("node-id")));
    }

    [Fact]
    public async Task A_fresh_router_never_adopts_a_reset_node_and_says_why()
    {
        using var data = new TempDirectory();
        new ResetMarker(data.Path).Request();
        var identity = new NodeIdentity(data.Path);
        Assert.True(identity.IsResetPending);
        var engine = new RamStorageEngine();
        engine.Set("old"u8, "data"u8, 7);
        await using var cluster = await TestCluster.StartAsync(nodes: 0);
        cluster.StartNode(engine, identity: identity);
        await using var client = await cluster.ConnectAsync();
        await Eventually.WaitAsync(async () => (await RouterInfo.ReadAsync(client)).Unavailable.Contains("was reset", StringComparison.Ordinal),
            Timeout, "the router saying why it adopts nothing");
        Assert.Equal(0, cluster.Router.ServingNodeCount);
        await Assert.ThrowsAsync<KvnDbUnavailableException>(async () => await client.GetStringAsync("old"));
        Assert.Equal(1, engine.Count);
    }

    [Fact]
    public async Task Reset_is_no_longer_a_start_flag()
    {
        using var data = new TempDirectory();
        var (exitCode, output) = await NodeProcess.RunAsync("--engine", "faster", "--data", data.Path, "--reset", "--port", "1");
        Assert.Equal(1, exitCode);
        Assert.Contains("kvndb-node reset --data DIR", output);
        Assert.Empty(Directory.EnumerateFileSystemEntries(data.Path)); // nothing touched, nothing stamped

        var (missing, message) = await NodeProcess.RunAsync("reset", "--data", data.PathOf("nope"));
        Assert.Equal(1, missing);
        Assert.Contains("no data folder", message);
    }

    /// <summary>Names and contents of every file under <paramref name="directory"/> but the lock (a refused start still takes it to check the folder).</summary>
    private static SortedDictionary<string, string> Snapshot(string directory) =>
        new(Directory.GetFiles(directory, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != FolderLock.FileName)
            .ToDictionary(f => Path.GetRelativePath(directory, f), f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f)))), StringComparer.Ordinal);

    /// <summary>The keys a stopped node's folder holds, read from a copy opened in-process.</summary>
    private static async Task<long> KeysInCopyAsync(string data)
    {
        using var copy = new TempDirectory();
        foreach (var directory in Directory.GetDirectories(data, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(directory.Replace(data, copy.Path, StringComparison.Ordinal));
        foreach (var file in Directory.GetFiles(data, "*", SearchOption.AllDirectories))
            File.Copy(file, file.Replace(data, copy.Path, StringComparison.Ordinal));
        await using var engine = FasterStorageEngine.Open(copy.Path, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = copy.Path,
            MemoryBytes = 16L << 20,
            CheckpointInterval = System.Threading.Timeout.InfiniteTimeSpan,
        }, NullLogger.Instance);
        return engine.ListKeys(ReadOnlyMemory<byte>.Empty).LongCount();
    }

    /// <summary>Every child process a test started, killed at the end whatever happened.</summary>
    private sealed class Processes : IAsyncDisposable
    {
        private readonly List<ChildProcess> _all = [];

        public ChildProcess Add(ChildProcess process)
        {
            _all.Add(process);
            return process;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var process in _all)
                await process.DisposeAsync();
        }
    }
}

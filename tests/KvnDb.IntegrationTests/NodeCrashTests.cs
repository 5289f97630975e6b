using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using KvnDb.Client;
using KvnDb.Node.Storage;
using KvnDb.Router;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.IntegrationTests;

/// <summary>
/// A real <c>kvndb-node --engine faster</c> child process behind an in-process router, written to through
/// the client library and killed with SIGKILL in the middle of the load, then restarted on its data.
/// </summary>
public sealed class NodeCrashTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Fsync_node_killed_mid_load_keeps_every_acknowledged_write()
    {
        await using var router = await RouterHost.StartAsync(new RouterOptions { Port = 0 });
        using var data = new TempDirectory();
        var acknowledged = new ConcurrentDictionary<string, string>();
        var attempted = new ConcurrentDictionary<string, string>();
        await using var client = await ConnectAsync(router);
        for (var cycle = 0; cycle < 3; cycle++)
        {
            await using var node = StartNode(router, data.Path, "fsync");
            await router.WaitForServingNodesAsync(1, Timeout);
            await AssertAllPresentAsync(client, acknowledged);

            // The kill comes once more than 100 writes were acknowledged, however long that takes.
            var written = await WriteUntilKilledAsync(client, node, $"c{cycle}", acknowledged, attempted, writesBeforeKill: 101);
            Assert.True(written > 100, $"only {written} writes were acknowledged before the kill");
            await WaitForNoServingNodeAsync(router);
            // The router would replay the gap from its backlog when the node rejoins, so check the node's own
            // files first: a copy of what the kill left, opened in-process, holds every acknowledged write.
            // A write can be on disk with its reply lost in the kill, so the store may hold a few unacknowledged keys.
            var (_, keys) = await AssertStoreHoldsAsync(data.Path, acknowledged, node.Output);
            Assert.InRange(keys, acknowledged.Count, attempted.Count);
        }

        await using var last = StartNode(router, data.Path, "fsync");
        await router.WaitForServingNodesAsync(1, Timeout);
        await AssertAllPresentAsync(client, acknowledged);
        Assert.Equal(0, await last.TerminateAsync(Timeout));
        // A clean stop takes a final checkpoint that holds everything, then drops the write-ahead log.
        Assert.False(Directory.Exists(WriteAheadLog.DirectoryOf(data.Path)), $"the write-ahead log outlived a clean stop\n{last.Output}");
        await AssertStoreHoldsAsync(data.Path, acknowledged, last.Output);
    }

    [Fact]
    public async Task Node_without_fsync_killed_mid_load_reopens_and_reports_its_recovered_sequence()
    {
        // A backlog large enough for the whole load, so the gap after the recovered checkpoint is replayed.
        await using var router = await RouterHost.StartAsync(new RouterOptions { Port = 0, BacklogBytes = 512L << 20 });
        using var data = new TempDirectory();
        var acknowledged = new ConcurrentDictionary<string, string>();
        var written = new ConcurrentDictionary<string, string>(); // acknowledged or not: a write may be applied and lost its reply
        await using var client = await ConnectAsync(router);
        for (var cycle = 0; cycle < 2; cycle++)
        {
            await using (var node = StartNode(router, data.Path, "none"))
            {
                await router.WaitForServingNodesAsync(1, Timeout);
                // The kill comes after a periodic checkpoint (1 s interval) taken during this cycle's load, so some of it survives.
                var checkpointsBefore = CompletedCheckpoints(data.Path);
                await WriteUntilKilledAsync(client, node, $"c{cycle}", acknowledged, written, writesBeforeKill: 500,
                    beforeKill: () => Eventually.WaitAsync(() => !CompletedCheckpoints(data.Path).IsSubsetOf(checkpointsBefore), Timeout, "a periodic checkpoint"));
            }
            var sequenceAtKill = (await RouterInfo.ReadAsync(client)).Sequence;
            await WaitForNoServingNodeAsync(router);

            // What the node will recover: a copy of its files opened in-process runs the same recovery.
            var (recoveredSequence, recoveredKeys) = await RecoverCopyAsync(data.Path, DurabilityMode.None);

            await using var restarted = StartNode(router, data.Path, "none");
            await router.WaitForServingNodesAsync(1, Timeout);

            // The router hears in the hello what the node recovered, and it is a sequence the router
            // really handed out; a checkpoint taken under load means some data survived.
            var info = await RouterInfo.ReadAsync(client);
            Assert.Equal(recoveredSequence, info.Nodes.Single(n => n.State == "serving").HelloSequence);
            Assert.InRange(recoveredSequence, 1UL, sequenceAtKill);

            // The router replays the writes after the recovered sequence from its backlog: once the node
            // serves again, every acknowledged write is back, and nothing appears that was never written.
            await AssertAllPresentAsync(client, acknowledged);
            var listed = new List<string>();
            await foreach (var key in client.ListKeyStringsAsync().WithCancellation(new CancellationTokenSource(Timeout).Token))
                listed.Add(key);
            Assert.Equal(listed.Count, listed.Distinct().Count());
            Assert.InRange(listed.Count, acknowledged.Count, written.Count);
            Assert.All(listed, key => Assert.True(written.ContainsKey(key), $"{key} was never written"));
            Assert.True(recoveredKeys <= listed.Count, $"recovered {recoveredKeys} keys but lists {listed.Count} after catching up");
            Assert.Equal(0, await restarted.TerminateAsync(Timeout));
            await WaitForNoServingNodeAsync(router);
        }
    }

    private static ChildProcess StartNode(RouterHost router, string data, string durability)
    {
        var arguments = new List<string>
        {
            "--engine", "faster", "--durability", durability, "--data", data, "--memory", "64m",
            "--checkpoint-interval", "1", "--host", "127.0.0.1", "--port", router.Port.ToString(CultureInfo.InvariantCulture),
        };
        if (router.Options.NodePassword is { Length: > 0 } nodePassword)
            arguments.AddRange(["--password", nodePassword]);
        return ChildProcess.StartProgram("NodeHost", "kvndb-node", arguments);
    }

    private static Task<KvnDbClient> ConnectAsync(RouterHost router) =>
        KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = router.Port, Password = router.Options.Password, RequestTimeout = Timeout });

    /// <summary>
    /// Eight writers set fresh keys until the node is SIGKILLed under them, which happens once
    /// <paramref name="writesBeforeKill"/> writes were acknowledged (and <paramref name="beforeKill"/>, if
    /// given, completed); records every acknowledged write.
    /// </summary>
    private static async Task<long> WriteUntilKilledAsync(
        KvnDbClient client, ChildProcess node, string prefix, ConcurrentDictionary<string, string> acknowledged,
        ConcurrentDictionary<string, string> attempted, long writesBeforeKill, Func<Task>? beforeKill = null)
    {
        var count = new AwaitableCounter();
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; ; i++)
            {
                var key = $"{prefix}-w{w}-{i}";
                var value = i % 97 == 0 ? new string((char)('a' + w), 100_000) : $"{key}-value";
                attempted[key] = value;
                try
                {
                    await client.SetAsync(key, value).AsTask().WaitAsync(Timeout);
                }
                catch (KvnDbException)
                {
                    return; // the node died: this write was not acknowledged
                }
                acknowledged[key] = value;
                count.Increment();
            }
        })).ToArray();
        count.Observe(writers);
        await count.WaitForAsync(writesBeforeKill, Timeout);
        if (beforeKill is not null)
            await beforeKill();
        Assert.DoesNotContain(writers, w => w.IsCompleted);
        await node.KillAsync(Timeout);
        await Task.WhenAll(writers).WaitAsync(Timeout);
        return count.Value;
    }

    private static async Task AssertAllPresentAsync(KvnDbClient client, ConcurrentDictionary<string, string> expected)
    {
        var missing = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(expected, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (pair, cancellationToken) =>
        {
            if (await client.GetStringAsync(pair.Key, cancellationToken).AsTask().WaitAsync(Timeout, cancellationToken) != pair.Value)
                missing.Add(pair.Key);
        }).WaitAsync(Timeout);
        Assert.True(missing.IsEmpty, $"{missing.Count} of {expected.Count} acknowledged writes are missing or wrong, e.g. {string.Join(", ", missing.Take(5))}");
    }

    /// <summary>Opens a copy of the node's files in-process and checks every expected write is there; returns the recovered last sequence and key count.</summary>
    private static async Task<(ulong LastSequence, long Keys)> AssertStoreHoldsAsync(string data, ConcurrentDictionary<string, string> expected, string nodeOutput)
    {
        using var copy = new TempDirectory();
        CopyDirectory(data, copy.Path);
        await using var engine = OpenFaster(copy.Path, DurabilityMode.Fsync);
        var missing = expected.Where(pair =>
        {
            if (!engine.TryGet(Encoding.UTF8.GetBytes(pair.Key), out var stored))
                return true;
            using (stored)
                return Encoding.UTF8.GetString(stored.Value.Span) != pair.Value;
        }).Select(pair => pair.Key).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {expected.Count} acknowledged writes are not in the killed node's files, e.g. {string.Join(", ", missing.Take(5))}; reopened at last sequence {engine.LastSequence} with {engine.Count} keys\n{nodeOutput}");
        return (engine.LastSequence, engine.Count);
    }

    /// <summary>What a node opening <paramref name="data"/> recovers, found by opening a copy in-process.</summary>
    private static async Task<(ulong LastSequence, long Keys)> RecoverCopyAsync(string data, DurabilityMode durability)
    {
        using var copy = new TempDirectory();
        CopyDirectory(data, copy.Path);
        await using var engine = OpenFaster(copy.Path, durability);
        return (engine.LastSequence, engine.Count);
    }

    private static FasterStorageEngine OpenFaster(string directory, DurabilityMode durability) =>
        FasterStorageEngine.Open(directory, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = directory,
            MemoryBytes = 64L << 20,
            Durability = durability,
            CheckpointInterval = System.Threading.Timeout.InfiniteTimeSpan,
        }, NullLogger.Instance);

    /// <summary>Tokens of the checkpoints the faster engine recorded as complete (it lists each in <c>checkpoints/completed</c> once it is whole, keeping the newest).</summary>
    private static HashSet<string> CompletedCheckpoints(string data)
    {
        var file = Path.Combine(data, "checkpoints", "completed");
        try
        {
            return File.Exists(file) ? [.. File.ReadAllLines(file)] : [];
        }
        catch (IOException)
        {
            return []; // being replaced right now
        }
    }

    /// <summary>A plain copy (new folder times, as <c>cp</c> without <c>-a</c> makes): the engine must still pick the newest checkpoint.</summary>
    private static void CopyDirectory(string source, string destination)
    {
        foreach (var directory in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(directory.Replace(source, destination, StringComparison.Ordinal));
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
            File.Copy(file, file.Replace(source, destination, StringComparison.Ordinal));
    }

    private static Task WaitForNoServingNodeAsync(RouterHost router) =>
        Eventually.WaitAsync(() => router.ServingNodeCount == 0, Timeout, "the router no longer counting the killed node as serving");
}

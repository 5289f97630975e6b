using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using KvnDb.Client;
using KvnDb.Node.Storage;
using KvnDb.Router;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.IntegrationTests;

/// <summary>
/// A real <c>kvndb-node --engine faster</c> child process behind an in-process router, written to through
/// the client library and killed with SIGKILL in the middle of the load, then restarted on its data.
/// </summary>
public sealed partial class NodeCrashTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan LoadBeforeKill = TimeSpan.FromSeconds(1.5);

    [GeneratedRegex(@"Node starting: engine faster, (\d+) keys, last sequence (\d+)")]
    private static partial Regex NodeStarting();

    [GeneratedRegex(@"hello_sequence=(\d+)")]
    private static partial Regex HelloSequence();

    [GeneratedRegex(@"FASTER store closed with a final checkpoint")]
    private static partial Regex ClosedCleanly();

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
            var started = await node.WaitForOutputAsync(NodeStarting(), Timeout);
            await router.WaitForServingNodesAsync(1, Timeout);
            // A write can be on disk with its reply lost in the kill, so the store may hold a few unacknowledged keys.
            Assert.InRange(long.Parse(started.Groups[1].Value, CultureInfo.InvariantCulture), acknowledged.Count, attempted.Count);
            await AssertAllPresentAsync(client, acknowledged);

            var written = await WriteUntilKilledAsync(client, node, $"c{cycle}", acknowledged, attempted);
            Assert.True(written > 100, $"only {written} writes were acknowledged before the kill");
            await WaitForNoServingNodeAsync(router);
            // The router would replay the gap from its backlog when the node rejoins, so check the node's own
            // files first: a copy of what the kill left, opened in-process, holds every acknowledged write.
            await AssertStoreHoldsAsync(data.Path, acknowledged, node.Output);
        }

        await using var last = StartNode(router, data.Path, "fsync");
        await last.WaitForOutputAsync(NodeStarting(), Timeout);
        await router.WaitForServingNodesAsync(1, Timeout);
        await AssertAllPresentAsync(client, acknowledged);
        Assert.Equal(0, await last.TerminateAsync(Timeout));
        Assert.Matches(ClosedCleanly(), last.Output);
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
                await node.WaitForOutputAsync(NodeStarting(), Timeout);
                await router.WaitForServingNodesAsync(1, Timeout);
                await WriteUntilKilledAsync(client, node, $"c{cycle}", acknowledged, written, TimeSpan.FromSeconds(2.5));
            }
            var sequenceAtKill = ParseInfo(await client.InfoAsync().WaitAsync(Timeout), "sequence");
            await WaitForNoServingNodeAsync(router);

            await using var restarted = StartNode(router, data.Path, "none");
            var started = await restarted.WaitForOutputAsync(NodeStarting(), Timeout);
            await router.WaitForServingNodesAsync(1, Timeout);
            var recoveredKeys = long.Parse(started.Groups[1].Value, CultureInfo.InvariantCulture);
            var recoveredSequence = ulong.Parse(started.Groups[2].Value, CultureInfo.InvariantCulture);

            // The node reports what it recovered, the router hears the same in the hello, and it is a
            // sequence the router really handed out; a 1 s checkpoint interval means some data survived.
            var info = await client.InfoAsync().WaitAsync(Timeout);
            Assert.Equal(recoveredSequence, ulong.Parse(HelloSequence().Match(info).Groups[1].Value, CultureInfo.InvariantCulture));
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

    private static NodeProcess StartNode(RouterHost router, string data, string durability)
    {
        var arguments = new List<string>
        {
            "--engine", "faster", "--durability", durability, "--data", data, "--memory", "64m",
            "--checkpoint-interval", "1", "--host", "127.0.0.1", "--port", router.Port.ToString(CultureInfo.InvariantCulture),
        };
        if (router.Options.EffectiveNodePassword.Length > 0)
            arguments.AddRange(["--password", router.Options.EffectiveNodePassword]);
        return NodeProcess.Start(arguments);
    }

    private static Task<KvnDbClient> ConnectAsync(RouterHost router) =>
        KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = router.Port, Password = router.Options.Password, RequestTimeout = Timeout });

    /// <summary>Eight writers set fresh keys until the node is SIGKILLed under them; records every acknowledged write.</summary>
    private static async Task<long> WriteUntilKilledAsync(
        KvnDbClient client, NodeProcess node, string prefix, ConcurrentDictionary<string, string> acknowledged,
        ConcurrentDictionary<string, string>? attempted = null, TimeSpan? loadTime = null)
    {
        var count = 0L;
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; ; i++)
            {
                var key = $"{prefix}-w{w}-{i}";
                var value = i % 97 == 0 ? new string((char)('a' + w), 100_000) : $"{key}-value";
                if (attempted is not null)
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
                Interlocked.Increment(ref count);
            }
        })).ToArray();
        await Task.Delay(loadTime ?? LoadBeforeKill);
        Assert.DoesNotContain(writers, w => w.IsCompleted);
        await node.KillAsync(Timeout);
        await Task.WhenAll(writers).WaitAsync(Timeout);
        return count;
    }

    private static async Task AssertAllPresentAsync(KvnDbClient client, ConcurrentDictionary<string, string> expected)
    {
        var missing = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(expected, new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (pair, _) =>
        {
            if (await client.GetStringAsync(pair.Key).AsTask().WaitAsync(Timeout) != pair.Value)
                missing.Add(pair.Key);
        }).WaitAsync(Timeout);
        Assert.True(missing.IsEmpty, $"{missing.Count} of {expected.Count} acknowledged writes are missing or wrong, e.g. {string.Join(", ", missing.Take(5))}");
    }

    private static async Task AssertStoreHoldsAsync(string data, ConcurrentDictionary<string, string> expected, string nodeOutput)
    {
        using var copy = new TempDirectory();
        CopyDirectory(data, copy.Path);
        await using var engine = FasterStorageEngine.Open(copy.Path, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = copy.Path,
            MemoryBytes = 64L << 20,
            Durability = DurabilityMode.Fsync,
            CheckpointInterval = System.Threading.Timeout.InfiniteTimeSpan,
        }, NullLogger.Instance);
        var missing = expected.Where(pair =>
        {
            if (!engine.TryGet(Encoding.UTF8.GetBytes(pair.Key), out var stored))
                return true;
            using (stored)
                return Encoding.UTF8.GetString(stored.Value.Span) != pair.Value;
        }).Select(pair => pair.Key).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {expected.Count} acknowledged writes are not in the killed node's files, e.g. {string.Join(", ", missing.Take(5))}; reopened at last sequence {engine.LastSequence} with {engine.Count} keys\n{nodeOutput}");
    }

    /// <summary>A plain copy (new folder times, as <c>cp</c> without <c>-a</c> makes): the engine must still pick the newest checkpoint.</summary>
    private static void CopyDirectory(string source, string destination)
    {
        foreach (var directory in Directory.GetDirectories(source, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(directory.Replace(source, destination, StringComparison.Ordinal));
        foreach (var file in Directory.GetFiles(source, "*", SearchOption.AllDirectories))
            File.Copy(file, file.Replace(source, destination, StringComparison.Ordinal));
    }

    private static async Task WaitForNoServingNodeAsync(RouterHost router)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (router.ServingNodeCount > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the router still counts the killed node as serving");
            await Task.Delay(20);
        }
    }

    private static ulong ParseInfo(string info, string field)
    {
        var match = Regex.Match(info, $@"(?m)^{field}[:=]\s*(\d+)");
        Assert.True(match.Success, $"no {field} in info:\n{info}");
        return ulong.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using KvnDb.Client;
using KvnDb.Router;

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
        await using var router = await RouterHost.StartAsync(new RouterOptions { Port = 0 });
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

            // The recovered store is consistent: as many live keys as it reports, each holding what was written.
            var listed = new List<string>();
            await foreach (var key in client.ListKeyStringsAsync().WithCancellation(new CancellationTokenSource(Timeout).Token))
                listed.Add(key);
            if (recoveredKeys != listed.Count)
            {
                var listedSet = listed.ToHashSet();
                var readable = 0;
                var sample = new List<string>();
                foreach (var key in written.Keys.Where(k => !listedSet.Contains(k)))
                {
                    if (await client.GetStringAsync(key).AsTask().WaitAsync(Timeout) is not null)
                    {
                        readable++;
                        if (sample.Count < 5)
                            sample.Add(key);
                    }
                }
                Assert.Fail($"cycle {cycle}: node reports {recoveredKeys} keys, listing gives {listed.Count} ({listed.Distinct().Count()} distinct); {readable} unlisted keys are readable, e.g. {string.Join(", ", sample)}\n{restarted.Output}");
            }
            foreach (var key in listed)
                Assert.Equal(written[key], await client.GetStringAsync(key).AsTask().WaitAsync(Timeout));
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

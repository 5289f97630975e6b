using KvnDb.Client;
using KvnDb.Protocol;
using KvnDb.Testing;

namespace KvnDb.Chaos;

/// <summary>
/// Writers run against a router and N nodes (all real child processes) while nodes are SIGKILLed and
/// restarted, with and without --reset, and the router is SIGKILLed and restarted. At the end every
/// node must be serving, all digests equal, and every key must hold a value the ledger allows.
/// </summary>
internal sealed class ChaosRun(ChaosOptions options, TextWriter log)
{
    private readonly KeyLedger _ledger = new();
    private readonly Random _random = new(options.Seed);
    private long _acknowledged;
    private long _failed;
    private int _nodeKills;
    private int _resets;
    private int _routerKills;
    private long _fullSyncs;
    private long _replayed;

    public async Task<int> RunAsync()
    {
        Directory.CreateDirectory(options.WorkDirectory);
        var port = ChildProcess.FreePort(); // fixed: a restarted router must come back where nodes and client look
        log.WriteLine($"chaos: seed {options.Seed}, {options.Nodes} {options.Engine} nodes, {options.Keys} keys, {options.Duration.TotalSeconds:0} s, logs in {options.WorkDirectory}");
        var router = new ManagedProcess("router", ProgramPaths.Executable("Router", "kvndb-router"),
            ["--port", $"{port}", "--backlog", "1m", "--data", Path.Combine(options.WorkDirectory, "router")], Path.Combine(options.WorkDirectory, "router.log"));
        var nodes = Enumerable.Range(0, options.Nodes).Select(i => new ManagedProcess($"node{i}", ProgramPaths.Executable("NodeHost", "kvndb-node"),
            ["--port", $"{port}", "--engine", options.Engine, "--data", Path.Combine(options.WorkDirectory, $"node{i}")],
            Path.Combine(options.WorkDirectory, $"node{i}.log"))).ToList();
        router.Start();
        foreach (var node in nodes)
            node.Start();

        var clientOptions = new KvnDbClientOptions { Port = port, RequestTimeout = TimeSpan.FromSeconds(3), ConnectTimeout = TimeSpan.FromSeconds(3) };
        await using var client = await ConnectAsync(clientOptions);
        await WaitForServingAsync(client, options.Nodes, TimeSpan.FromSeconds(30));

        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, options.Writers).Select(w => Task.Run(() => WriteAsync(client, w, stop.Token))).ToArray();
        var started = DateTime.UtcNow;
        using var schedule = new PeriodicTimer(options.Interval); // the disturbance schedule
        while (DateTime.UtcNow - started < options.Duration && await schedule.WaitForNextTickAsync())
        {
            await DisturbAsync(client, router, nodes);
            log.WriteLine($"chaos: {(DateTime.UtcNow - started).TotalSeconds,5:0}s acked {Interlocked.Read(ref _acknowledged)} failed {Interlocked.Read(ref _failed)} node kills {_nodeKills} (resets {_resets}) router kills {_routerKills}");
        }
        await stop.CancelAsync();
        await Task.WhenAll(writers);

        var healthy = await WaitForServingAsync(client, options.Nodes, TimeSpan.FromSeconds(60));
        await CollectSyncCountersAsync(client);
        var (agree, digestLines) = await CompareDigestsAsync(client);
        var divergent = await CountDivergentKeysAsync(client);

        foreach (var line in digestLines)
            log.WriteLine($"chaos: {line}");
        log.WriteLine($"chaos: writes acked {_acknowledged}, failed (outcome unknown) {_failed}, node kills {_nodeKills} (with reset {_resets}), router kills {_routerKills}, full syncs {_fullSyncs}, replayed writes {_replayed}, divergent keys {divergent}, all nodes serving {healthy}, digests agree {agree}");

        await router.KillAsync();
        foreach (var node in nodes)
            await node.KillAsync();
        var ok = healthy && agree && divergent == 0 && _acknowledged > 0;
        log.WriteLine(ok ? "chaos: PASS" : "chaos: FAIL");
        return ok ? 0 : 1;
    }

    private async Task WriteAsync(KvnDbClient client, int writer, CancellationToken stop)
    {
        var random = new Random(options.Seed + writer);
        var perWriter = Math.Max(1, options.Keys / options.Writers);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var key = $"w{writer}-k{random.Next(perWriter)}";
            var value = random.Next(6) == 0 ? null : $"{writer}-{n}";
            try
            {
                if (value is null)
                    await client.DeleteAsync(key);
                else
                    await client.SetAsync(key, value);
                _ledger.Acknowledged(key, value);
                Interlocked.Increment(ref _acknowledged);
            }
            catch (KvnDbException)
            {
                _ledger.Unknown(key, value);
                Interlocked.Increment(ref _failed);
                // Router down or no node serving: the next write waits until a node serves again.
                await WaitForAnyServingAsync(client, stop);
            }
        }
    }

    /// <summary>One disturbance. Nodes are only killed while all are serving, so a current replica always survives.</summary>
    private async Task DisturbAsync(KvnDbClient client, ManagedProcess router, List<ManagedProcess> nodes)
    {
        var roll = _random.Next(100);
        if (roll < 20)
        {
            await CollectSyncCountersAsync(client);
            await router.KillAsync();
            router.Start();
            _routerKills++;
            return;
        }
        if (roll >= 85 || !await AllServingAsync(client, nodes.Count))
            return;
        var node = nodes[_random.Next(nodes.Count)];
        await node.KillAsync();
        var reset = _random.Next(3) == 0;
        node.Start(reset ? ["--reset"] : null);
        _nodeKills++;
        if (reset)
            _resets++;
    }

    private async Task CollectSyncCountersAsync(KvnDbClient client)
    {
        try
        {
            var info = RouterInfo.Parse(await client.InfoAsync());
            _fullSyncs += info.FullSyncs;
            _replayed += info.ReplayedWrites;
        }
        catch (KvnDbException)
        {
            // The router is down at this moment: its counters are lost with it.
        }
    }

    private static async Task<bool> AllServingAsync(KvnDbClient client, int count)
    {
        try
        {
            return RouterInfo.Parse(await client.InfoAsync()).NodesServing == count;
        }
        catch (KvnDbException)
        {
            return false;
        }
    }

    private static async Task<bool> WaitForServingAsync(KvnDbClient client, int count, TimeSpan timeout)
    {
        try
        {
            await Eventually.WaitAsync(() => AllServingAsync(client, count), timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Until the router (maybe being restarted) reports a serving node, or the run stops.</summary>
    private static async Task WaitForAnyServingAsync(KvnDbClient client, CancellationToken stop)
    {
        try
        {
            await Eventually.WaitAsync(async () =>
            {
                if (stop.IsCancellationRequested)
                    return true;
                try
                {
                    return RouterInfo.Parse(await client.InfoAsync()).NodesServing > 0;
                }
                catch (KvnDbException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            // the next write fails and says so
        }
    }

    private static async Task<(bool Agree, List<string> Lines)> CompareDigestsAsync(KvnDbClient client)
    {
        var digests = await client.DigestAsync();
        var lines = digests.Select(d => $"node{d.NodeId} {d.State} keys={d.Digest.KeyCount} sequence={d.Digest.LastSequence} digest={d.Digest.ContentHash:x16}").ToList();
        var serving = digests.Where(d => d.State == NodeState.Serving).ToList();
        return (serving.Count > 0 && serving.Select(d => d.Digest.ContentHash).Distinct().Count() == 1
            && serving.Select(d => d.Digest.KeyCount).Distinct().Count() == 1, lines);
    }

    private async Task<int> CountDivergentKeysAsync(KvnDbClient client)
    {
        var divergent = 0;
        foreach (var batch in _ledger.Keys.Chunk(500))
        {
            var values = await client.MultiGetStringsAsync(batch);
            for (var i = 0; i < batch.Length; i++)
            {
                if (!_ledger.IsAllowed(batch[i], values[i]))
                {
                    divergent++;
                    if (divergent <= 10)
                        log.WriteLine($"chaos: divergent key {batch[i]} = {values[i] ?? "(absent)"}");
                }
            }
        }
        return divergent;
    }

    private static Task<KvnDbClient> ConnectAsync(KvnDbClientOptions options) =>
        Eventually.SucceedsAsync<KvnDbConnectionException, KvnDbClient>(() => KvnDbClient.ConnectAsync(options), TimeSpan.FromSeconds(30));
}

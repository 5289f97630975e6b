using System.Text;
using KvnDb.Node.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.IntegrationTests.Resp;

/// <summary>
/// SCAN as pages of the nodes' scan index (opcode ScanKeys): every key present for the whole scan comes back while
/// writers race it and the FASTER logs compact under it, a cursor goes on on another node, and the options behave as
/// Redis's do.
/// </summary>
public sealed class RespScanTests
{
    [Fact]
    public async Task A_full_scan_returns_every_key_present_throughout_while_writers_race_it_and_the_faster_logs_compact()
    {
        using var folders = new TempDirectory();
        await using var cluster = await RespCluster.StartAsync(nodes: 0);
        var engines = new[] { OpenFaster(Path.Combine(folders.Path, "a")), OpenFaster(Path.Combine(folders.Path, "b")) };
        foreach (var engine in engines)
            cluster.StartNode(engine);
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        await using var client = await cluster.ConnectAsync();

        // Stable keys, with values large enough that the 16 MiB logs spill to disk and compaction has records to move.
        var filler = new string('x', 2048);
        var stable = Enumerable.Range(0, 3000).Select(i => $"stable:{i}").ToArray();
        foreach (var chunk in stable.Chunk(100))
            await client.MultiSetStringsAsync(chunk.Select(k => KeyValuePair.Create(k, filler)).ToArray());

        using var stop = new CancellationTokenSource();
        var writes = 0L;
        var writers = Enumerable.Range(0, 3).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            while (!stop.IsCancellationRequested)
            {
                // Overwrites of stable keys (their records move to the log's tail), inserts and deletes of others.
                await client.SetAsync(stable[random.Next(stable.Length)], filler + w);
                var churn = $"churn:{w}:{random.Next(500)}";
                if (random.Next(2) == 0)
                    await client.SetAsync(churn, filler);
                else
                    await client.DeleteAsync(churn);
                Interlocked.Add(ref writes, 2);
            }
        })).ToArray();
        var compactions = 0;
        var compactor = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                foreach (var engine in engines)
                {
                    var result = await engine.CompactAsync();
                    if (result.Ran && result.LogBytesAfter < result.LogBytesBefore)
                        Interlocked.Increment(ref compactions);
                }
                var written = Interlocked.Read(ref writes);
                await Eventually.WaitAsync(() => stop.IsCancellationRequested || Interlocked.Read(ref writes) > written + 500, what: "writes to compact");
            }
        });

        await using var resp = await RawRespClient.ConnectAsync(cluster.RespPort());
        var seen = new HashSet<string>();
        var cursor = "0";
        var pages = 0;
        do
        {
            var page = Assert.IsType<object?[]>(await resp.CallAsync("SCAN", cursor, "COUNT", "10"));
            cursor = Assert.IsType<string>(page[0]);
            var keys = Assert.IsType<object?[]>(page[1]);
            Assert.InRange(keys.Length, 0, 10 * 2); // at most COUNT, give or take keys sharing one position
            foreach (var key in keys)
                seen.Add(Assert.IsType<string>(key));
            pages++;
            if (pages % 50 == 0)
            {
                // Let writes and at least one compaction land between pages (conditions, not sleeps).
                var before = Interlocked.Read(ref writes);
                await Eventually.WaitAsync(() => Interlocked.Read(ref writes) > before + 20, what: "writes between pages");
            }
            if (pages == 100)
                await Eventually.WaitAsync(() => Volatile.Read(ref compactions) > 0, what: "a compaction during the scan");
        }
        while (cursor != "0");
        await stop.CancelAsync();
        await Task.WhenAll([.. writers, compactor]).WaitAsync(TestCluster.Timeout);

        Assert.DoesNotContain(stable, k => !seen.Contains(k));
        Assert.True(pages >= stable.Length / 10, $"{pages} pages: a page holds at most COUNT keys");
        Assert.True(Volatile.Read(ref compactions) > 0);
        foreach (var engine in engines)
            await engine.DisposeAsync();
    }

    [Fact]
    public async Task A_cursor_goes_on_on_another_node_when_the_node_that_served_the_scan_goes_away()
    {
        await using var cluster = await RespCluster.StartAsync(nodes: 1);
        await using var client = await cluster.ConnectAsync();
        var keys = Enumerable.Range(0, 1500).Select(i => $"key:{i}").ToArray();
        foreach (var chunk in keys.Chunk(250))
            await client.MultiSetStringsAsync(chunk.Select(k => KeyValuePair.Create(k, "v")).ToArray());

        await using var resp = await RawRespClient.ConnectAsync(cluster.RespPort());
        var seen = new List<string>();
        var cursor = "0";
        for (var i = 0; i < 20; i++) // the first node alone answers these pages
            cursor = await PageAsync(resp, cursor, seen);
        Assert.NotEqual("0", cursor);

        // A second node joins (a full sync: its keys arrive in another order), then the first goes away.
        cluster.StartNode();
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);
        await cluster.Nodes[0].StopAsync();
        await Eventually.WaitAsync(() => cluster.Router.ServingNodeCount == 1, what: "the first node gone");

        while (cursor != "0")
            cursor = await PageAsync(resp, cursor, seen);
        Assert.Equal(keys.Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal)); // each once: no page repeated or skipped
    }

    [Fact]
    public async Task Match_count_type_databases_and_bad_cursors_behave_as_in_redis()
    {
        await using var cluster = await RespCluster.StartAsync();
        await using var resp = await RawRespClient.ConnectAsync(cluster.RespPort());
        Assert.Equal("OK", await resp.CallAsync(["MSET", .. Enumerable.Range(0, 200).SelectMany(i => new[] { $"user:{i}", "v" }), "order:1", "v"]));
        Assert.Equal("OK", await resp.CallAsync("SELECT", "5"));
        Assert.Equal("OK", await resp.CallAsync("SET", "user:5000", "v"));

        Assert.Equal(["user:5000"], await ScanAllAsync(resp, "MATCH", "user:*"));
        Assert.Equal("OK", await resp.CallAsync("SELECT", "0"));
        var expected = Enumerable.Range(0, 200).Select(i => $"user:{i}").Where(k => k.StartsWith("user:1", StringComparison.Ordinal));
        Assert.Equal(expected.Order(StringComparer.Ordinal), await ScanAllAsync(resp, "MATCH", "user:1*", "COUNT", "7"));
        Assert.Equal(201, (await ScanAllAsync(resp, "COUNT", "1000", "TYPE", "string")).Count);
        Assert.Empty(await ScanAllAsync(resp, "TYPE", "list"));

        // One page of COUNT 1000 over 201 keys is the whole scan.
        var whole = Assert.IsType<object?[]>(await resp.CallAsync("SCAN", "0", "COUNT", "1000"));
        Assert.Equal("0", whole[0]);
        Assert.Equal(201, Assert.IsType<object?[]>(whole[1]).Length);

        Assert.Equal(new RespErrorReply("ERR invalid cursor"), await resp.CallAsync("SCAN", "abc"));
        Assert.Equal(new RespErrorReply("ERR invalid cursor"), await resp.CallAsync("SCAN", (1UL << 48).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.Equal(new RespErrorReply("ERR syntax error"), await resp.CallAsync("SCAN", "0", "COUNT", "0"));
        Assert.Equal(new RespErrorReply("ERR syntax error"), await resp.CallAsync("SCAN", "0", "MATCH"));
        Assert.Equal(new RespErrorReply("ERR value is not an integer or out of range"), await resp.CallAsync("SCAN", "0", "COUNT", "ten"));
        // Any position is a cursor: a scan may start anywhere and ends at 0.
        var anywhere = Assert.IsType<object?[]>(await resp.CallAsync("SCAN", "123456789", "COUNT", "1000"));
        Assert.Equal("0", anywhere[0]);
    }

    private static async Task<string> PageAsync(RawRespClient resp, string cursor, List<string> seen)
    {
        var page = Assert.IsType<object?[]>(await resp.CallAsync("SCAN", cursor, "COUNT", "10"));
        seen.AddRange(Assert.IsType<object?[]>(page[1]).Cast<string>());
        return Assert.IsType<string>(page[0]);
    }

    private static async Task<List<string>> ScanAllAsync(RawRespClient resp, params string[] options)
    {
        var keys = new List<string>();
        var cursor = "0";
        do
        {
            var page = Assert.IsType<object?[]>(await resp.CallAsync(["SCAN", cursor, .. options]));
            cursor = Assert.IsType<string>(page[0]);
            keys.AddRange(Assert.IsType<object?[]>(page[1]).Cast<string>());
        }
        while (cursor != "0");
        Assert.Equal(keys.Count, keys.Distinct().Count());
        return [.. keys.Order(StringComparer.Ordinal)];
    }

    private static FasterStorageEngine OpenFaster(string directory) =>
        FasterStorageEngine.Open(directory, new StorageOptions
        {
            Engine = "faster",
            DataDirectory = directory,
            MemoryBytes = 16L << 20,
            LogSegmentBytes = 4L << 20,
            CompactMinBytes = 0, // compacted by the test, while the scan runs
            CheckpointInterval = System.Threading.Timeout.InfiniteTimeSpan,
        }, NullLogger.Instance);
}

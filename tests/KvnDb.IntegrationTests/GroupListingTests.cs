using System.Buffers;
using System.Text;
using KvnDb.IntegrationTests.Resp;
using KvnDb.Protocol;
using KvnDb.Router;
using KvnDb.Router.Groups;

namespace KvnDb.IntegrationTests;

/// <summary>
/// SCAN (native ScanKeys and RESP), listings (KEYS, ListKeys) and DBSIZE across replica groups: every key once, from
/// the group that owns its slot, also in the middle of a slot migration, when the target holds copies of the moving
/// slots before it owns them and the source still holds them after the switch (the migration is held at those points
/// by <see cref="MigrationCoordinator.StepHook"/>), and for a scan whose pages straddle the switch.
/// </summary>
public sealed class GroupListingTests
{
    private const int KeyCount = 600;

    private static readonly string[] Keys = [.. Enumerable.Range(0, KeyCount).Select(i => $"k{i}")];

    [Fact]
    public async Task A_scan_across_three_groups_returns_every_key_exactly_once_natively_and_over_resp()
    {
        await using var cluster = await StartAsync(["a", "b", "c"], ["a", "b", "c"]);
        await using var client = await cluster.ConnectAsync();
        await WriteKeysAsync(client);

        var native = await NativeScanAsync(cluster, count: 7);
        Assert.Equal(Keys.Order(StringComparer.Ordinal), native.Keys.Order(StringComparer.Ordinal)); // each once
        Assert.True(native.Pages >= 3, $"a page per group at least, {native.Pages} pages");

        await using var resp = await RawRespClient.ConnectAsync(cluster.RespPort());
        var scanned = await RespScanAsync(resp, "0", match: "k1*", pages: int.MaxValue);
        Assert.Equal(Keys.Where(k => k.StartsWith("k1", StringComparison.Ordinal)).Order(StringComparer.Ordinal), scanned.Keys.Order(StringComparer.Ordinal));
        Assert.Equal((long)KeyCount, await resp.CallAsync("DBSIZE"));
    }

    [Fact]
    public async Task Listing_dbsize_and_scan_in_the_middle_of_a_migration_name_every_key_once()
    {
        // Small chunks: the target holds a part of the moving slots when the first chunk is applied.
        await using var cluster = await StartAsync(["a", "b"], MigrationNodes, snapshotChunkBytes: 256);
        var router = cluster.Router.Cluster;
        await using var client = await cluster.ConnectAsync();
        await using var resp = await RawRespClient.ConnectAsync(cluster.RespPort());
        await WriteKeysAsync(client);
        using var hold = new MigrationHold(router.Migrations, MigrationStep.ChunkApplied, MigrationStep.Switched);

        // b's highest slots go to a: the target comes first in slot order, the source after it.
        await client.MoveSlotsAsync("b", "a", 4096);
        await hold.ReachedAsync(MigrationStep.ChunkApplied);
        var moving = router.Migrations.Current!.Slots.ToHashSet();
        Assert.Equal("copying", router.Migrations.Current.State);
        Assert.True(CopiesHeldBy(cluster, "a", moving) > 0, "the target holds copies of moving keys before it owns them");
        await CheckEveryKeyOnceAsync(client, resp);
        // A scan that starts now and goes on across the switch.
        var straddling = await RespScanAsync(resp, "0", match: null, pages: 3);
        Assert.NotEqual("0", straddling.Cursor);

        hold.Release(MigrationStep.ChunkApplied);
        await hold.ReachedAsync(MigrationStep.Switched);
        Assert.Equal(0, router.Slots.GroupOf(moving.Max()));
        Assert.True(CopiesHeldBy(cluster, "b", moving) > 0, "the source still holds the moved keys before its cleanup");
        await CheckEveryKeyOnceAsync(client, resp);
        var rest = await RespScanAsync(resp, straddling.Cursor, match: null, pages: int.MaxValue);
        Assert.Equal(Keys.Order(StringComparer.Ordinal), straddling.Keys.Concat(rest.Keys).Order(StringComparer.Ordinal));

        hold.Release(MigrationStep.Switched);
        await Eventually.WaitAsync(() => router.Migrations.Current is null && router.Metadata.Document.Migration is null, what: "the migration to end");
        Assert.Equal(0, CopiesHeldBy(cluster, "b", moving));
        await CheckEveryKeyOnceAsync(client, resp);
    }

    /// <summary>KEYS (native listing and RESP), DBSIZE and a full SCAN (native and RESP) each name every key exactly once.</summary>
    private static async Task CheckEveryKeyOnceAsync(KvnDb.Client.KvnDbClient client, RawRespClient resp)
    {
        var expected = Keys.Order(StringComparer.Ordinal).ToArray();
        var listed = new List<string>();
        await foreach (var key in client.ListKeysAsync())
            listed.Add(Encoding.UTF8.GetString(key));
        Assert.Equal(expected, listed.Order(StringComparer.Ordinal));
        var keys = Assert.IsType<object?[]>(await resp.CallAsync("KEYS", "*")).Cast<string>();
        Assert.Equal(expected, keys.Order(StringComparer.Ordinal));
        Assert.Equal((long)KeyCount, await resp.CallAsync("DBSIZE"));
        var scanned = await RespScanAsync(resp, "0", match: null, pages: int.MaxValue);
        Assert.Equal(expected, scanned.Keys.Order(StringComparer.Ordinal));
    }

    /// <summary>Keys of <paramref name="slots"/> that the nodes of <paramref name="group"/> hold (summed over its nodes).</summary>
    private static long CopiesHeldBy(TestCluster cluster, string group, HashSet<int> slots) =>
        cluster.Nodes.Where((_, i) => MigrationNodes[i] == group).Sum(n => n.Engine.Scan().Count(r => slots.Contains(KeySlot.Of(r.Key))));

    private static readonly string[] MigrationNodes = ["a", "a", "b", "b"];

    private static async Task<TestCluster> StartAsync(string[] groups, string[] nodes, int snapshotChunkBytes = 256 * 1024)
    {
        var cluster = await TestCluster.StartAsync(nodes: 0, new RouterOptions { Groups = groups, RespPort = 0, SnapshotChunkBytes = snapshotChunkBytes });
        foreach (var group in nodes)
            cluster.StartNode(group: group);
        await cluster.Router.WaitForServingNodesAsync(nodes.Length, TestCluster.Timeout);
        return cluster;
    }

    private static async Task WriteKeysAsync(KvnDb.Client.KvnDbClient client)
    {
        foreach (var chunk in Keys.Chunk(100))
            await client.MultiSetStringsAsync([.. chunk.Select(k => KeyValuePair.Create(k, $"v-{k}"))]);
    }

    private static async Task<(List<string> Keys, string Cursor)> RespScanAsync(RawRespClient resp, string cursor, string? match, int pages)
    {
        var keys = new List<string>();
        for (var page = 0; page < pages; page++)
        {
            string[] arguments = match is null ? ["SCAN", cursor, "COUNT", "10"] : ["SCAN", cursor, "MATCH", match, "COUNT", "10"];
            var reply = Assert.IsType<object?[]>(await resp.CallAsync(arguments));
            cursor = Assert.IsType<string>(reply[0]);
            keys.AddRange(Assert.IsType<object?[]>(reply[1]).Cast<string>());
            if (cursor == "0")
                break;
        }
        return (keys, cursor);
    }

    /// <summary>A whole scan with ScanKeys frames on a native connection.</summary>
    private static async Task<(List<string> Keys, int Pages)> NativeScanAsync(TestCluster cluster, uint count)
    {
        using var raw = await RawConnection.ConnectAsync(cluster.Router.Port);
        await raw.SendHelloAsync();
        Assert.Equal(StatusCode.Ok, (await raw.ReadRawFrameAsync())!.Header.Status);
        var keys = new List<string>();
        var position = 0UL;
        var pages = 0;
        do
        {
            var at = position;
            await raw.SendAsync(writer => WriteScan(writer, (ulong)pages + 10, at, count));
            var reply = (await raw.ReadRawFrameAsync())!;
            Assert.Equal(StatusCode.Ok, reply.Header.Status);
            position = ReadPage(reply.Body, keys);
            pages++;
        }
        while (position != 0);
        return (keys, pages);
    }

    private static void WriteScan(IBufferWriter<byte> writer, ulong requestId, ulong position, uint count)
    {
        var length = ScanKeysRequest.BodyLength(0);
        var frame = writer.GetSpan(ProtocolLimits.HeaderSize + length);
        new FrameHeader(length, Opcode.ScanKeys, FrameFlags.None, StatusCode.Ok, requestId).Write(frame);
        ScanKeysRequest.WriteBody(frame[ProtocolLimits.HeaderSize..], 0, position, count, default);
        writer.Advance(ProtocolLimits.HeaderSize + length);
    }

    private static ulong ReadPage(byte[] body, List<string> keys)
    {
        Assert.True(ScanKeysReply.TryRead(body, out var page));
        while (page.TryReadNext(out var key))
            keys.Add(Encoding.UTF8.GetString(key));
        Assert.True(page.IsComplete);
        return page.Next;
    }

    /// <summary>Holds a migration at the first time it reaches each of the given steps, until released.</summary>
    private sealed class MigrationHold : IDisposable
    {
        private readonly MigrationCoordinator _migrations;
        private readonly Dictionary<MigrationStep, (TaskCompletionSource Reached, TaskCompletionSource Released)> _steps;

        public MigrationHold(MigrationCoordinator migrations, params MigrationStep[] steps)
        {
            _migrations = migrations;
            _steps = steps.ToDictionary(s => s, _ => (NewSignal(), NewSignal()));
            migrations.StepHook = OnStepAsync;
        }

        public Task ReachedAsync(MigrationStep step) => _steps[step].Reached.Task.WaitAsync(TimeSpan.FromSeconds(60));

        public void Release(MigrationStep step) => _steps[step].Released.TrySetResult();

        private Task OnStepAsync(MigrationStep step)
        {
            if (!_steps.TryGetValue(step, out var signals) || !signals.Reached.TrySetResult())
                return Task.CompletedTask; // held only the first time
            // Bounded: a test that fails before releasing still lets the router stop.
            return signals.Released.Task.WaitAsync(TimeSpan.FromSeconds(90)).ContinueWith(_ => { }, TaskScheduler.Default);
        }

        public void Dispose()
        {
            foreach (var (_, released) in _steps.Values)
                released.TrySetResult();
            _migrations.StepHook = null;
        }

        private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

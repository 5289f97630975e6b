using System.Text;
using KvnDb.Client;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Router;
using KvnDb.Router.Groups;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.IntegrationTests;

/// <summary>
/// Online slot migration between replica groups of FASTER nodes behind one router, under write load checked against a
/// ledger: every acknowledged write is readable with its last acknowledged value afterwards, from exactly the group the
/// map names (the other group's nodes do not hold the key), each group's replicas agree, and each group's key count
/// matches the map.
/// </summary>
public sealed class SlotMigrationTests
{
    private static readonly TimeSpan MigrationTimeout = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Half_the_slots_of_a_group_move_under_write_load_and_the_ledger_holds()
    {
        using var folder = new TempDirectory();
        await using var groups = await FasterGroups.StartAsync(folder, ["a", "b"], ["a", "a", "b", "b"]);
        var router = groups.Cluster.Router.Cluster;
        await using var client = await groups.Cluster.ConnectAsync();
        var ledger = new Ledger(keys: 3000, workers: 6);
        await ledger.PreloadAsync(client);
        await using (var load = ledger.Start(client))
        {
            await load.WaitForOperationsAsync(500);
            var started = await client.MoveSlotsAsync("a", "b", 4096);
            Assert.StartsWith("moving 4096 slots (4096-8191) from a to b", started);
            Assert.Contains("migration: from=a to=b slots=4096 state=", await client.InfoAsync());
            await WaitForMigrationAsync(router);
            var done = load.Operations;
            await load.WaitForOperationsAsync(done + 300); // writes go on after the switch, to the new owner
        }

        Assert.Equal([4096, 12288], router.Slots.SlotCounts());
        Assert.Null(router.Metadata.Document.Migration);
        Assert.Contains("migration: none", await client.InfoAsync());
        await ledger.CheckAsync(client, groups);
    }

    [Fact]
    public async Task A_migration_interrupted_by_a_router_restart_resumes_from_its_record_and_completes()
    {
        using var folder = new TempDirectory();
        // Small chunks: the copy takes many round trips, so the restart lands in the middle of it.
        await using var groups = await FasterGroups.StartAsync(folder, ["a", "b"], ["a", "a", "b", "b"], snapshotChunkBytes: 512);
        await using var client = await groups.Cluster.ConnectAsync();
        var ledger = new Ledger(keys: 4000, workers: 4);
        await ledger.PreloadAsync(client);
        MigrationRecord? recorded = null;
        await using (var load = ledger.Start(client))
        {
            await load.WaitForOperationsAsync(300);
            await client.MoveSlotsAsync("a", "b", 8192);
            var first = groups.Cluster.Router.Cluster.Migrations.Current!;
            await Eventually.WaitAsync(() => first.RecordsCopied > 0, what: "the copy under way");
            Assert.Equal("copying", first.State);
            await groups.Cluster.RestartRouterAsync(whileStopped: () =>
            {
                recorded = new KvnDb.Router.Membership.FileMetadataStore(groups.RouterData).Load().Migration;
                return Task.CompletedTask;
            });
            Assert.Equal(MigrationState.Copying, recorded?.State);
            await WaitForMigrationAsync(groups.Cluster.Router.Cluster);
            var done = load.Operations;
            await load.WaitForOperationsAsync(done + 200);
        }

        var router = groups.Cluster.Router.Cluster;
        Assert.Equal([0, 16384], router.Slots.SlotCounts());
        Assert.Null(router.Metadata.Document.Migration);
        await ledger.CheckAsync(client, groups);
    }

    [Fact]
    public async Task A_group_added_to_a_running_cluster_is_rebalanced_into()
    {
        using var folder = new TempDirectory();
        await using var groups = await FasterGroups.StartAsync(folder, ["a", "b"], ["a", "a", "b", "b"]);
        await using var client = await groups.Cluster.ConnectAsync();
        var router = groups.Cluster.Router.Cluster;
        var ledger = new Ledger(keys: 2000, workers: 4);
        await ledger.PreloadAsync(client);

        await using (var load = ledger.Start(client))
        {
            await load.WaitForOperationsAsync(200);
            // Added while writes go on, no router restart: durable in the metadata first, with no slots; its nodes join it.
            Assert.StartsWith("group c added (no slots yet)", await client.AddGroupAsync("c"));
            Assert.True(new KvnDb.Router.Membership.FileMetadataStore(groups.RouterData).Load().Groups.ContainsKey("c"), "the group is durable");
            var again = await Assert.ThrowsAnyAsync<KvnDbException>(() => client.AddGroupAsync("c"));
            Assert.Contains("has a group 'c' already", again.Message);
            Assert.Equal([8192, 8192, 0], router.Slots.SlotCounts());
            groups.StartNodes(["c", "c"]);
            await groups.Cluster.Router.WaitForServingNodesAsync(6, TestCluster.Timeout);

            await client.MoveSlotsAsync("a", "c", 2731);
            await WaitForMigrationAsync(router);
            await client.MoveSlotsAsync("b", "c", 2730);
            await WaitForMigrationAsync(router);
            var done = load.Operations;
            await load.WaitForOperationsAsync(done + 200);
        }

        Assert.Equal([5461, 5462, 5461], router.Slots.SlotCounts());
        await ledger.CheckAsync(client, groups);
        Assert.True(groups.Cluster.Nodes.Skip(4).All(n => n.Engine.Count > 0), "the new group's nodes hold keys");

        // The router restarted with its old --groups a,b still has c, with its slots (the metadata names it).
        await groups.Cluster.RestartRouterAsync();
        await groups.Cluster.Router.WaitForServingNodesAsync(6, TestCluster.Timeout);
        var restarted = groups.Cluster.Router.Cluster.Slots;
        Assert.Equal(new Dictionary<string, int> { ["a"] = 5461, ["b"] = 5462, ["c"] = 5461 },
            restarted.Groups.Zip(restarted.SlotCounts()).ToDictionary(g => g.First, g => g.Second));
        await ledger.CheckAsync(client, groups);
    }

    [Fact]
    public async Task A_router_restarted_after_the_switch_finishes_the_cleanup_from_its_record()
    {
        using var folder = new TempDirectory();
        await using var groups = await FasterGroups.StartAsync(folder, ["a", "b"], ["a", "a", "b", "b"]);
        await using var client = await groups.Cluster.ConnectAsync();
        var ledger = new Ledger(keys: 1000, workers: 1);
        await ledger.PreloadAsync(client);
        var moved = Enumerable.Range(4096, 4096).ToList();
        var movedKeys = Enumerable.Range(0, 1000).Select(Ledger.KeyOf).Where(k => KeySlot.Of(Encoding.UTF8.GetBytes(k)) is >= 4096 and < 8192).ToList();
        Assert.NotEmpty(movedKeys);

        // What a router leaves when it stops between the switch and the source's cleanup: the map gives the slots to b,
        // the record says switched, and a's nodes still hold the keys (b's copy is not the point here).
        await groups.Cluster.RestartRouterAsync(whileStopped: async () =>
        {
            var store = new KvnDb.Router.Membership.FileMetadataStore(groups.RouterData);
            var document = store.Load();
            var map = SlotMap.FromRanges(document.Slots, ["a", "b"]).With(moved, 1);
            await store.SaveAsync(document with
            {
                Slots = map.ToRanges(),
                Migration = new MigrationRecord("a", "b", MigrationRecord.RangesOf(moved, "b"), MigrationState.Switched),
            });
        });
        var router = groups.Cluster.Router.Cluster;
        Assert.Equal([4096, 12288], router.Slots.SlotCounts());
        await WaitForMigrationAsync(router);
        Assert.Null(new KvnDb.Router.Membership.FileMetadataStore(groups.RouterData).Load().Migration);
        foreach (var node in groups.Cluster.Nodes.Take(2))
        {
            Assert.All(node.Engine.Scan(), record => Assert.Equal(0, router.Slots.GroupOfKey(record.Key)));
            Assert.DoesNotContain(node.Engine.Scan(), record => movedKeys.Contains(Encoding.UTF8.GetString(record.Key)));
        }
    }

    private static Task WaitForMigrationAsync(Cluster router) =>
        Eventually.WaitAsync(() => router.Migrations.Current is null && router.Metadata.Document.Migration is null, MigrationTimeout, "the migration to end");

    /// <summary>A router with groups and FASTER nodes in them; disposing it closes the stores too.</summary>
    private sealed class FasterGroups : IAsyncDisposable
    {
        private readonly TempDirectory _folder;
        private readonly List<(FasterStorageEngine Engine, string Group)> _engines = [];

        private FasterGroups(TempDirectory folder, TestCluster cluster)
        {
            _folder = folder;
            Cluster = cluster;
        }

        public TestCluster Cluster { get; }

        public string RouterData => _folder.PathOf("router");

        /// <summary>The group each node (in <see cref="TestCluster.Nodes"/> order) was started in.</summary>
        public IReadOnlyList<string> GroupOfNode => [.. _engines.Select(e => e.Group)];

        public static async Task<FasterGroups> StartAsync(TempDirectory folder, string[] groups, string[] nodes, int snapshotChunkBytes = 256 * 1024)
        {
            var cluster = await TestCluster.StartAsync(nodes: 0, new RouterOptions
            {
                Groups = groups,
                DataDirectory = folder.PathOf("router"),
                SnapshotChunkBytes = snapshotChunkBytes,
            });
            var started = new FasterGroups(folder, cluster);
            started.StartNodes(nodes);
            await cluster.Router.WaitForServingNodesAsync(nodes.Length, TestCluster.Timeout);
            return started;
        }

        public void StartNodes(string[] groups)
        {
            foreach (var group in groups)
            {
                var directory = _folder.PathOf($"node{_engines.Count}");
                var engine = FasterStorageEngine.Open(directory, new StorageOptions
                {
                    Engine = "faster",
                    DataDirectory = directory,
                    MemoryBytes = 64L << 20,
                    CheckpointInterval = Timeout.InfiniteTimeSpan,
                }, NullLogger.Instance);
                _engines.Add((engine, group));
                Cluster.StartNode(engine, group: group);
            }
        }

        public async ValueTask DisposeAsync()
        {
            await Cluster.DisposeAsync();
            foreach (var (engine, _) in _engines)
                await engine.DisposeAsync();
        }
    }

    /// <summary>
    /// Writers over disjoint key sets (one writer per key, so the last acknowledged write of a key is its value), with
    /// sets, deletes, increments and appends (writes the target evaluates against the key as the copy left it). A write
    /// that failed may or may not have been applied: its key may then hold either value until it is written again.
    /// </summary>
    private sealed class Ledger(int keys, int workers)
    {
        private readonly string?[] _value = new string?[keys];
        private readonly HashSet<string?>?[] _uncertain = new HashSet<string?>?[keys];
        private readonly List<string> _violations = [];

        public static string KeyOf(int i) => $"m:{i}";

        public async Task PreloadAsync(KvnDbClient client)
        {
            for (var i = 0; i < keys; i += 64)
            {
                var batch = Enumerable.Range(i, Math.Min(64, keys - i)).Select(k => KeyValuePair.Create(KeyOf(k), $"p{k}")).ToList();
                await client.MultiSetStringsAsync(batch);
                foreach (var pair in batch)
                    _value[int.Parse(pair.Key.AsSpan(2), System.Globalization.CultureInfo.InvariantCulture)] = pair.Value;
            }
        }

        public Load Start(KvnDbClient client) => new(this, client, workers);

        public sealed class Load : IAsyncDisposable
        {
            private readonly CancellationTokenSource _stop = new();
            private readonly AwaitableCounter _operations = new();
            private readonly Task[] _tasks;

            public Load(Ledger ledger, KvnDbClient client, int workers)
            {
                _tasks = [.. Enumerable.Range(0, workers).Select(w => Task.Run(() => ledger.WorkAsync(client, w, workers, _operations, _stop.Token)))];
            }

            public long Operations => _operations.Value;

            public Task WaitForOperationsAsync(long count) => _operations.WaitForAsync(count, MigrationTimeout);

            public async ValueTask DisposeAsync()
            {
                await _stop.CancelAsync();
                await Task.WhenAll(_tasks).WaitAsync(TestCluster.Timeout);
                _stop.Dispose();
            }
        }

        private async Task WorkAsync(KvnDbClient client, int worker, int workers, AwaitableCounter operations, CancellationToken stop)
        {
            var random = new Random(worker);
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                var i = worker + workers * random.Next((keys - worker + workers - 1) / workers);
                var key = KeyOf(i);
                var before = _value[i];
                var certain = _uncertain[i] is null;
                var kind = random.Next(100);
                // What the key holds once the write is applied (an increment or append only on a key whose value is known).
                var operation = kind < 15 ? Operation.Delete
                    : kind < 40 && certain && (before is null || long.TryParse(before, out _)) ? Operation.Increment
                    : kind < 55 && certain && before is { Length: < 200 } && !long.TryParse(before, out _) ? Operation.Append
                    : Operation.Set;
                var after = operation switch
                {
                    Operation.Delete => null,
                    Operation.Increment => ((before is null ? 0 : long.Parse(before, System.Globalization.CultureInfo.InvariantCulture)) + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
                    Operation.Append => before + "+",
                    _ => $"w{worker}-{n++}",
                };
                try
                {
                    switch (operation)
                    {
                        case Operation.Delete:
                            await client.DeleteAsync(key, cancellationToken: CancellationToken.None);
                            break;
                        case Operation.Increment:
                            var result = await client.IncrementAsync(key, cancellationToken: CancellationToken.None);
                            if (result.ToString(System.Globalization.CultureInfo.InvariantCulture) != after)
                                Violation($"{key}: increment of {before ?? "(absent)"} answered {result}");
                            break;
                        case Operation.Append:
                            var length = await client.AppendAsync(key, "+", cancellationToken: CancellationToken.None);
                            if (length != after!.Length)
                                Violation($"{key}: append to '{before}' answered length {length}");
                            break;
                        default:
                            await client.SetAsync(key, after!, cancellationToken: CancellationToken.None);
                            break;
                    }
                    _value[i] = after;
                    _uncertain[i] = null;
                    operations.Increment();
                }
                catch (KvnDbException) when (!stop.IsCancellationRequested)
                {
                    // Not acknowledged (the router restarting, a timeout): applied or not, the key holds one of these.
                    var possible = _uncertain[i] ?? [before];
                    possible.Add(after);
                    _uncertain[i] = possible;
                    // While the router is away the client fails fast: go on once it holds a connection again.
                    await client.WaitUntilConnectedAsync().WaitAsync(stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
                catch (KvnDbException)
                {
                    // Stopping.
                }
            }
        }

        private enum Operation
        {
            Set,
            Delete,
            Increment,
            Append,
        }

        private void Violation(string what)
        {
            lock (_violations)
                _violations.Add(what);
        }

        /// <summary>Every key readable with its ledger value, held by exactly the owning group's nodes; replicas agree; counts match the map.</summary>
        public async Task CheckAsync(KvnDbClient client, FasterGroups groups)
        {
            Assert.Empty(_violations);
            var router = groups.Cluster.Router.Cluster;
            var map = router.Slots;
            var expectedCounts = new long[map.Groups.Count];
            for (var i = 0; i < keys; i++)
            {
                var key = KeyOf(i);
                var read = await client.GetStringAsync(key);
                if (_uncertain[i] is { } possible)
                {
                    Assert.True(possible.Contains(read) || read == _value[i], $"{key}: read '{read}', expected one of {string.Join(",", possible)}");
                }
                else
                {
                    Assert.True(_value[i] == read, $"{key}: read '{read}', the last acknowledged write left '{_value[i]}'");
                }
                if (read is not null)
                    expectedCounts[map.GroupOfKey(Encoding.UTF8.GetBytes(key))]++;
            }

            // Each group's replicas agree, and the groups' keys add up to every key once.
            await Eventually.WaitAsync(async () =>
            {
                var digest = await client.DigestAsync();
                return digest.GroupBy(e => router.Nodes.Connected.Single(n => n.Id == e.NodeId).Group.Name)
                    .All(g => g.Select(e => (e.Digest.KeyCount, e.Digest.ContentHash)).Distinct().Count() == 1);
            }, what: "every group's replicas to agree");
            var nodes = groups.Cluster.Nodes;
            for (var n = 0; n < nodes.Count; n++)
            {
                var group = map.Groups.ToList().IndexOf(groups.GroupOfNode[n]);
                Assert.Equal(expectedCounts[group], nodes[n].Engine.Count);
                // Only the owning group holds a key: the source deleted what it gave away.
                Assert.All(nodes[n].Engine.Scan(), record => Assert.Equal(group, map.GroupOfKey(record.Key)));
            }
        }
    }
}

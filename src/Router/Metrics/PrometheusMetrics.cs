using System.Diagnostics;
using System.Globalization;
using KvnDb.Hosting.Metrics;
using KvnDb.Protocol;
using Prometheus;

namespace KvnDb.Router;

/// <summary>
/// The router's Prometheus series (prometheus-net, a registry per router), served at <c>/metrics</c> on
/// <c>--http-port</c>. Counters and gauges are read from <see cref="RouterStats"/> and the cluster when
/// Prometheus scrapes, so they cost the hot path nothing. Request latency is the one series fed per
/// request: the library's histogram is itself pre-aggregated (a bucket search and two interlocked adds on
/// a cached child, no exemplars, no allocation) and read as it is at scrape time.
/// </summary>
internal sealed class PrometheusMetrics
{
    private static readonly string[] States = ["syncing", "serving", "suspect"];
    private readonly Cluster _cluster;
    private readonly ClientRegistry _clients;
    private readonly Histogram.Child _readLatency;
    private readonly Histogram.Child _writeLatency;
    private readonly Histogram.Child _digestLatency;
    private readonly Lock _nodesLock = new();
    private readonly HashSet<string> _nodeLabels = [];
    private readonly List<(Gauge Gauge, bool ByState)> _perNode = [];

    public PrometheusMetrics(Cluster cluster, ClientRegistry clients)
    {
        _cluster = cluster;
        _clients = clients;
        Registry = StandardMetrics.CreateRegistry("router");
        var factory = StandardMetrics.Factory(Registry);
        var latency = factory.CreateHistogram("kvndb_router_request_duration_seconds",
            "Time from a request's arrival until the nodes it needs have answered (kind: read, write, digest)",
            ["kind"], new HistogramConfiguration { Buckets = LatencyHistogram.BoundsSeconds });
        _readLatency = latency.WithLabels("read");
        _writeLatency = latency.WithLabels("write");
        _digestLatency = latency.WithLabels("digest");

        var stats = cluster.Stats;
        Counter(factory, "kvndb_router_reads_total", "Read requests (get, exists, multi-get, key listing)", () => stats.Reads);
        Counter(factory, "kvndb_router_writes_total", "Write requests (set, delete, multi-set, evaluated writes)", () => stats.Writes);
        Counter(factory, "kvndb_router_errors_total", "Requests answered with an error status", () => stats.Errors);
        Counter(factory, "kvndb_router_read_retries_total", "Reads sent again to another node after theirs died or turned suspect", () => stats.ReadRetries);
        Counter(factory, "kvndb_router_auth_failures_total", "Hellos refused for a wrong password", () => stats.AuthFailures);
        Counter(factory, "kvndb_router_connections_accepted_total", "Connections accepted on the native port", () => stats.ConnectionsAccepted);
        Counter(factory, "kvndb_router_replayed_writes_total", "Backlog writes replayed to returning nodes", () => stats.ReplayedWrites);
        Counter(factory, "kvndb_router_full_syncs_total", "Full syncs started", () => stats.FullSyncs);
        Counter(factory, "kvndb_router_syncs_completed_total", "Syncs (replay or full) that admitted their node", () => stats.SyncsCompleted);
        Counter(factory, "kvndb_router_sync_restarts_total", "Full syncs that lost their donor and started again from another", () => stats.SyncRestarts);
        Counter(factory, "kvndb_router_node_apply_failures_total", "Writes a node failed to apply (each took it out of the in-sync set)", () => stats.NodeApplyFailures);
        Counter(factory, "kvndb_router_time_marks_total", "Time marks sent to the nodes to expire keys", () => (long)cluster.Expiry.Marks);
        Gauge(factory, "kvndb_router_clients", "Connected clients", () => clients.Count);
        Gauge(factory, "kvndb_router_pending_requests", "Requests in flight", () => cluster.PendingRequests);
        Gauge(factory, "kvndb_router_sequence", "Last sequence issued", () => (double)cluster.Sequence);
        Gauge(factory, "kvndb_router_backlog_bytes", "Bytes of recent writes kept in the replication log", () => cluster.Sequencer.Log.Bytes);
        Gauge(factory, "kvndb_router_in_sync_members", "Members of the durable in-sync set", () => cluster.Membership.Metadata.Members.Count);
        Gauge(factory, "kvndb_router_adopted", "1 once the router adopted a source of truth and serves", () => cluster.Membership.IsAdopted ? 1 : 0);
        Gauge(factory, "kvndb_router_record_limit_bytes", "Largest key plus value every node stores", () => cluster.RecordLimit.Current);

        var groupSequence = factory.CreateGauge("kvndb_router_group_sequence", "Last sequence issued in the replica group", ["group"]);
        var groupSlots = factory.CreateGauge("kvndb_router_group_slots", "Slots the replica group owns", ["group"]);
        var groupInSync = factory.CreateGauge("kvndb_router_group_in_sync_members", "Members of the replica group's durable in-sync set", ["group"]);
        var groupServing = factory.CreateGauge("kvndb_router_group_serving_nodes", "Nodes of the replica group serving reads", ["group"]);
        var groupBacklog = factory.CreateGauge("kvndb_router_group_backlog_bytes", "Bytes of the replica group's replication log", ["group"]);
        Registry.AddBeforeCollectCallback(() =>
        {
            var slots = cluster.Slots.SlotCounts();
            foreach (var group in cluster.Groups)
            {
                groupSequence.WithLabels(group.Name).Set(group.Sequencer.Sequence);
                groupSlots.WithLabels(group.Name).Set(slots[group.Index]);
                groupInSync.WithLabels(group.Name).Set(group.Membership.Metadata.Members.Count);
                groupServing.WithLabels(group.Name).Set(group.Nodes.Serving.Length);
                groupBacklog.WithLabels(group.Name).Set(group.Sequencer.Log.Bytes);
            }
        });
        var nodes = factory.CreateGauge("kvndb_router_nodes", "Connected nodes by state", ["state"]);
        var state = PerNode(factory.CreateGauge("kvndb_router_node_state", "1 for the state a node is in (syncing, serving, suspect), 0 for the others", ["node", "state"]), byState: true);
        var inSync = PerNode(factory.CreateGauge("kvndb_router_node_in_sync", "1 while the node is a member of the in-sync set", ["node"]));
        var lag = PerNode(factory.CreateGauge("kvndb_router_node_lag_writes", "Writes issued that the node has not acknowledged", ["node"]));
        var unsent = PerNode(factory.CreateGauge("kvndb_router_node_unsent_bytes", "Replication log bytes not yet sent to the node", ["node"]));
        var oldest = PerNode(factory.CreateGauge("kvndb_router_node_oldest_unacked_seconds", "Age of the oldest write waiting for the node", ["node"]));
        var outstanding = PerNode(factory.CreateGauge("kvndb_router_node_outstanding_requests", "Requests sent to the node and not answered yet", ["node"]));
        var checkpointAge = PerNode(factory.CreateGauge("kvndb_router_node_checkpoint_age_seconds", "Age of the node's last checkpoint as it last reported it", ["node"]));
        var free = PerNode(factory.CreateGauge("kvndb_router_node_free_bytes", "Free space on the node's data folder as it last reported it", ["node"]));
        var syncRecords = PerNode(factory.CreateGauge("kvndb_router_sync_records", "Snapshot records copied to the node by its full sync in progress", ["node"]));
        var syncDonorKeys = PerNode(factory.CreateGauge("kvndb_router_sync_donor_keys", "Keys the donor of the node's full sync holds", ["node"]));

        Registry.AddBeforeCollectCallback(() =>
        {
            var connected = cluster.Nodes.Connected;
            foreach (var name in States)
                nodes.WithLabels(name).Set(connected.Count(n => StateName(n.State) == name));
            lock (_nodesLock)
            {
                var seen = new HashSet<string>();
                foreach (var node in connected)
                {
                    var label = node.Id.ToString(CultureInfo.InvariantCulture);
                    seen.Add(label);
                    foreach (var name in States)
                        state.WithLabels(label, name).Set(StateName(node.State) == name ? 1 : 0);
                    inSync.WithLabels(label).Set(node.IsMember ? 1 : 0);
                    lag.WithLabels(label).Set(node.Group.Sequencer.Sequence - Math.Min(node.Group.Sequencer.Sequence, node.AckedSequence));
                    unsent.WithLabels(label).Set(node.Sender.UnsentBytes);
                    oldest.WithLabels(label).Set(cluster.OldestUnacknowledged(node).TotalSeconds);
                    outstanding.WithLabels(label).Set(node.Outstanding);
                    if (node.Status is { } status)
                    {
                        if (status.CheckpointAgeMs != NodeStatusReport.Unknown)
                            checkpointAge.WithLabels(label).Set((status.CheckpointAgeMs + (ulong)Math.Max(0, Environment.TickCount64 - node.StatusHeardMs)) / 1000.0);
                        if (status.FreeBytes != NodeStatusReport.Unknown)
                            free.WithLabels(label).Set(status.FreeBytes);
                    }
                    var progress = node.Group.Syncs.Progress(node);
                    syncRecords.WithLabels(label).Set(progress?.Records ?? 0);
                    syncDonorKeys.WithLabels(label).Set(progress?.DonorKeys ?? 0);
                }
                ForgetDeparted(seen);
            }
        });
    }

    public CollectorRegistry Registry { get; }

    /// <summary>Records a finished request (<see cref="Stopwatch"/> ticks); allocation-free.</summary>
    public void Observe(PendingKind kind, long elapsedTicks)
    {
        var seconds = (double)elapsedTicks / Stopwatch.Frequency;
        switch (kind)
        {
            case PendingKind.Read:
                _readLatency.Observe(seconds);
                break;
            case PendingKind.Write:
                _writeLatency.Observe(seconds);
                break;
            default:
                _digestLatency.Observe(seconds);
                break;
        }
    }

    /// <summary>Writes every series in the Prometheus text format.</summary>
    public Task WriteAsync(Stream output, CancellationToken cancellationToken) => Registry.CollectAndExportAsTextAsync(output, cancellationToken);

    public static string StateName(NodeState state) => state.ToString().ToLowerInvariant();

    private Gauge PerNode(Gauge gauge, bool byState = false)
    {
        _perNode.Add((gauge, byState));
        return gauge;
    }

    /// <summary>A node that left takes its series with it (a returning node comes back under a new number).</summary>
    private void ForgetDeparted(HashSet<string> present)
    {
        foreach (var label in _nodeLabels.Where(l => !present.Contains(l)).ToList())
        {
            foreach (var (gauge, byState) in _perNode)
            {
                if (byState)
                {
                    foreach (var name in States)
                        gauge.RemoveLabelled(label, name);
                }
                else
                {
                    gauge.RemoveLabelled(label);
                }
            }
            _nodeLabels.Remove(label);
        }
        _nodeLabels.UnionWith(present);
    }

    private void Counter(IMetricFactory factory, string name, string help, Func<long> read)
    {
        var counter = factory.CreateCounter(name, help);
        Registry.AddBeforeCollectCallback(() => counter.IncTo(read()));
    }

    private void Gauge(IMetricFactory factory, string name, string help, Func<double> read)
    {
        var gauge = factory.CreateGauge(name, help);
        Registry.AddBeforeCollectCallback(() => gauge.Set(read()));
    }
}

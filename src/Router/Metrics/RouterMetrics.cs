using System.Diagnostics;
using System.Diagnostics.Metrics;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// The router's instruments on meter <c>KvnDb.Router</c> (read them with <c>dotnet-counters monitor
/// --counters KvnDb.Router</c>); the Prometheus endpoint has its own series, <see cref="PrometheusMetrics"/>). Counters observe <see cref="RouterStats"/>,
/// so <c>info</c> and the metrics always show the same numbers and the hot path pays nothing extra;
/// only request latency is recorded per request.
/// </summary>
internal sealed class RouterMetrics : IDisposable
{
    public const string MeterName = "KvnDb.Router";

    private readonly Meter _meter = new(MeterName, typeof(RouterMetrics).Assembly.GetName().Version?.ToString(3));

    /// <summary>This router's meter (a process may host several routers, as tests do).</summary>
    public Meter Meter => _meter;
    private readonly Histogram<double> _latency;

    public RouterMetrics(Cluster cluster, ClientRegistry clients)
    {
        var stats = cluster.Stats;
        _meter.CreateObservableCounter("kvndb.router.reads", () => stats.Reads, description: "Read requests (get, exists, multi-get, key listing)");
        _meter.CreateObservableCounter("kvndb.router.writes", () => stats.Writes, description: "Write requests (set, delete, multi-set)");
        _meter.CreateObservableCounter("kvndb.router.errors", () => stats.Errors, description: "Requests answered with an error status");
        _meter.CreateObservableCounter("kvndb.router.read_retries", () => stats.ReadRetries, description: "Reads re-sent after their node died");
        _meter.CreateObservableCounter("kvndb.router.auth_failures", () => stats.AuthFailures);
        _meter.CreateObservableCounter("kvndb.router.connections_accepted", () => stats.ConnectionsAccepted);
        _meter.CreateObservableCounter("kvndb.router.replayed_writes", () => stats.ReplayedWrites, description: "Backlog writes replayed to returning nodes");
        _meter.CreateObservableCounter("kvndb.router.full_syncs", () => stats.FullSyncs);
        _meter.CreateObservableUpDownCounter("kvndb.router.clients", () => clients.Count, description: "Connected clients");
        _meter.CreateObservableUpDownCounter("kvndb.router.pending", () => cluster.PendingRequests, description: "Requests in flight");
        _meter.CreateObservableGauge("kvndb.router.sequence", () => (long)cluster.Sequence, description: "Last sequence issued");
        _meter.CreateObservableGauge("kvndb.router.backlog.bytes", () => cluster.Sequencer.Log.Bytes, unit: "By");
        _meter.CreateObservableGauge("kvndb.router.sync.records", () => cluster.Syncs.Records(), description: "Snapshot records copied by syncs in progress");
        _meter.CreateObservableGauge("kvndb.router.in_sync", () => cluster.Membership.Metadata.Members.Count, description: "Members of the durable in-sync set");
        _meter.CreateObservableGauge("kvndb.router.node.lag", () => PerNode(cluster, n => (long)(n.Group.Sequencer.Sequence - Math.Min(n.Group.Sequencer.Sequence, n.AckedSequence))), description: "Writes a node has not acknowledged");
        _meter.CreateObservableGauge("kvndb.router.node.unsent", () => PerNode(cluster, n => n.Sender.UnsentBytes), unit: "By", description: "Log bytes not yet sent to a node");
        _meter.CreateObservableGauge("kvndb.router.node.oldest_unacked", () => PerNode(cluster, n => (long)cluster.OldestUnacknowledged(n).TotalMilliseconds), unit: "ms", description: "Age of the oldest write waiting for a node");
        _meter.CreateObservableGauge("kvndb.router.nodes", () => NodesByState(cluster), description: "Nodes by state");
        _meter.CreateObservableGauge("kvndb.router.group.sequence", () => cluster.Groups.Select(g =>
            new Measurement<long>((long)g.Sequencer.Sequence, new KeyValuePair<string, object?>("group", g.Name))), description: "Last sequence issued per replica group");
        _meter.CreateObservableGauge("kvndb.router.group.in_sync", () => cluster.Groups.Select(g =>
            new Measurement<int>(g.Membership.Metadata.Members.Count, new KeyValuePair<string, object?>("group", g.Name))), description: "Members of each replica group's in-sync set");
        _latency = _meter.CreateHistogram<double>("kvndb.router.request.duration", unit: "ms", description: "Time from a request's arrival until every node involved has answered");
    }

    /// <summary>Read and write latency together, pre-aggregated for the status page's p99 per second.</summary>
    public LatencyHistogram Latency { get; } = new();

    /// <summary>
    /// Set when the router serves <c>--http-port</c>: only then are latencies kept (the Prometheus
    /// histogram and the status page's), so a router without the endpoint pays nothing per request.
    /// </summary>
    public PrometheusMetrics? Prometheus { get; set; }

    /// <summary>
    /// Records a finished request's latency; <paramref name="startedAt"/> is a <see cref="Stopwatch"/>
    /// timestamp. Allocation-free; costs nothing unless the endpoint or a listener (dotnet-counters) wants it.
    /// </summary>
    public void RecordLatency(PendingKind kind, long startedAt)
    {
        if (Prometheus is { } prometheus)
        {
            var elapsed = Stopwatch.GetTimestamp() - startedAt;
            prometheus.Observe(kind, elapsed);
            if (kind != PendingKind.Digest)
                Latency.Record(elapsed);
        }
        if (_latency.Enabled)
            _latency.Record(Stopwatch.GetElapsedTime(startedAt).TotalMilliseconds, new KeyValuePair<string, object?>("kind", KindName(kind)));
    }

    public static string KindName(PendingKind kind) => kind switch
    {
        PendingKind.Read => "read",
        PendingKind.Write => "write",
        _ => "digest",
    };

    private static IEnumerable<Measurement<int>> NodesByState(Cluster cluster)
    {
        var nodes = cluster.Nodes.Connected;
        foreach (var state in new[] { NodeState.Syncing, NodeState.Serving, NodeState.Suspect })
            yield return new Measurement<int>(nodes.Count(n => n.State == state), new KeyValuePair<string, object?>("state", state.ToString().ToLowerInvariant()));
    }

    private static IEnumerable<Measurement<long>> PerNode(Cluster cluster, Func<NodeLink, long> value)
    {
        foreach (var node in cluster.Nodes.Connected)
            yield return new Measurement<long>(value(node), new KeyValuePair<string, object?>("node", node.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    public void Dispose() => _meter.Dispose();
}

using System.Diagnostics;
using System.Text.Json;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// The JSON documents of the router's HTTP port: <c>/health</c> (is the cluster serving) and
/// <c>/status.json</c> (what the status page draws: the router, every node, the in-sync set, sync
/// progress and the last minutes of ops/s and p99). Written with <see cref="Utf8JsonWriter"/>: names are
/// snake_case and fixed here, the one place a consumer needs to read.
/// </summary>
internal static class StatusReport
{
    private static readonly long StartedAt = Stopwatch.GetTimestamp();

    /// <summary>Ready: a source of truth adopted and at least one node serving reads.</summary>
    public static bool IsReady(Cluster cluster) => cluster.Membership.IsAdopted && cluster.ServingNodeCount > 0;

    public static void WriteHealth(Utf8JsonWriter json, Cluster cluster)
    {
        var nodes = cluster.Nodes.Connected;
        var membership = cluster.Membership;
        json.WriteStartObject();
        json.WriteBoolean("ready", IsReady(cluster));
        json.WriteBoolean("adopted", membership.IsAdopted);
        json.WriteNumber("nodes", nodes.Length);
        json.WriteNumber("serving", cluster.ServingNodeCount);
        json.WriteNumber("in_sync", membership.Metadata.Members.Count);
        json.WritePropertyName("in_sync_missing");
        WriteNumbers(json, membership.MissingMembers());
        json.WriteString("unavailable", membership.UnavailableReason);
        json.WriteEndObject();
    }

    public static void WriteStatus(Utf8JsonWriter json, Cluster cluster, int clients, RouterEndpoints endpoints, StatusHistory history)
    {
        var stats = cluster.Stats;
        var membership = cluster.Membership;
        json.WriteStartObject();
        json.WriteNumber("now_ms", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());

        json.WriteStartObject("router");
        json.WriteString("version", typeof(StatusReport).Assembly.GetName().Version?.ToString(3));
        json.WriteString("address", $"{endpoints.Host}:{endpoints.Port}");
        if (endpoints.RespPort is { } resp)
            json.WriteNumber("resp_port", resp);
        json.WriteNumber("uptime_s", Math.Round(Stopwatch.GetElapsedTime(StartedAt).TotalSeconds, 1));
        json.WriteBoolean("ready", IsReady(cluster));
        json.WriteBoolean("adopted", membership.IsAdopted);
        json.WriteString("unavailable", membership.UnavailableReason);
        json.WriteNumber("sequence", cluster.Sequence);
        json.WriteString("history", cluster.HistoryId);
        json.WriteNumber("backlog_bytes", cluster.Sequencer.Log.Bytes);
        json.WriteNumber("clients", clients);
        json.WriteNumber("pending", cluster.PendingRequests);
        json.WriteNumber("reads", stats.Reads);
        json.WriteNumber("writes", stats.Writes);
        json.WriteNumber("errors", stats.Errors);
        json.WriteNumber("full_syncs", stats.FullSyncs);
        json.WriteEndObject();

        json.WritePropertyName("in_sync");
        WriteNumbers(json, membership.Metadata.Members.Select(m => m.Number));
        json.WritePropertyName("in_sync_missing");
        WriteNumbers(json, membership.MissingMembers());

        json.WriteStartArray("nodes");
        foreach (var node in cluster.Nodes.Connected)
            WriteNode(json, cluster, node);
        json.WriteEndArray();

        json.WriteStartObject("series");
        var samples = history.Snapshot();
        json.WriteStartArray("t");
        foreach (var sample in samples)
            json.WriteNumberValue(sample.UnixMs);
        json.WriteEndArray();
        json.WriteStartArray("ops");
        foreach (var sample in samples)
            json.WriteNumberValue(Math.Round(sample.OpsPerSecond, 1));
        json.WriteEndArray();
        json.WriteStartArray("p99_ms");
        foreach (var sample in samples)
        {
            if (sample.P99Ms is { } p99)
                json.WriteNumberValue(p99);
            else
                json.WriteNullValue();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void WriteNode(Utf8JsonWriter json, Cluster cluster, NodeLink node)
    {
        json.WriteStartObject();
        json.WriteNumber("id", node.Id);
        json.WriteString("node_id", node.NodeId);
        json.WriteString("address", node.RemoteAddress);
        json.WriteString("name", node.Name);
        json.WriteString("state", PrometheusMetrics.StateName(node.State));
        json.WriteBoolean("in_sync", node.IsMember);
        json.WriteString("joined", node.JoinMode.ToString().ToLowerInvariant());
        json.WriteNumber("acked", node.AckedSequence);
        json.WriteNumber("lag", node.Group.Sequencer.Sequence - Math.Min(node.Group.Sequencer.Sequence, node.AckedSequence));
        json.WriteNumber("outstanding", node.Outstanding);
        json.WriteNumber("unsent_bytes", node.Sender.UnsentBytes);
        json.WriteNumber("oldest_unacked_ms", Math.Round(cluster.OldestUnacknowledged(node).TotalMilliseconds));
        json.WriteNumber("silent_ms", node.SilentMs);
        json.WriteString("connected", node.ConnectedAt);
        if (node.Status is { } status)
        {
            json.WriteString("storage", status.Storage == NodeStorageState.Ok ? "ok" : "refusing_writes");
            json.WriteString("checkpoint", status.LastCheckpoint.ToString().ToLowerInvariant());
            if (status.CheckpointAgeMs != NodeStatusReport.Unknown)
                json.WriteNumber("checkpoint_age_ms", status.CheckpointAgeMs + (ulong)Math.Max(0, Environment.TickCount64 - node.StatusHeardMs));
            if (status.FreeBytes != NodeStatusReport.Unknown)
                json.WriteNumber("free_bytes", status.FreeBytes);
            if (status.KeyCount != NodeStatusReport.Unknown)
                json.WriteNumber("keys", status.KeyCount);
        }
        if (node.Group.Syncs.Progress(node) is { } progress)
        {
            json.WriteStartObject("sync");
            json.WriteNumber("records", progress.Records);
            json.WriteNumber("donor_keys", progress.DonorKeys);
            json.WriteEndObject();
        }
        json.WriteEndObject();
    }

    private static void WriteNumbers(Utf8JsonWriter json, IEnumerable<int> numbers)
    {
        json.WriteStartArray();
        foreach (var number in numbers)
            json.WriteNumberValue(number);
        json.WriteEndArray();
    }
}

/// <summary>Where the router listens, as the status page shows it (known once Kestrel has bound its ports).</summary>
internal sealed record RouterEndpoints(string Host, int Port, int? RespPort);

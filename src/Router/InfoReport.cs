using System.Globalization;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>The text of the <c>info</c> operation: <c>name: value</c> lines, then one line per node.</summary>
internal static class InfoReport
{
    public static string Build(Cluster cluster)
    {
        var stats = cluster.Stats;
        var text = new StringBuilder();
        Line(text, "version", typeof(InfoReport).Assembly.GetName().Version?.ToString(3) ?? "?");
        Line(text, "protocol", KvnDb.Protocol.ProtocolLimits.Version);
        Line(text, "sequence", cluster.Sequence);
        Line(text, "history", cluster.HistoryId);
        var log = cluster.Sequencer.Log;
        Line(text, "backlog", $"{log.OldestSequence}..{log.NewestSequence} ({log.Bytes} bytes)");
        var membership = cluster.Membership;
        Line(text, "adopted", membership.IsAdopted ? "yes" : "no");
        Line(text, "in_sync", string.Join(",", membership.Metadata.Members.Select(m => m.Number)));
        Line(text, "in_sync_missing", string.Join(",", membership.MissingMembers()));
        Line(text, "unavailable", membership.UnavailableReason ?? "");
        if (cluster.Options.Group is { } group)
            Ha.GroupInfo.Append(text, group);
        Line(text, "record_limit", cluster.RecordLimit.Current);
        Line(text, "record_limit_by", cluster.RecordLimit.Holder);
        Line(text, "replayed_writes", stats.ReplayedWrites);
        Line(text, "full_syncs", stats.FullSyncs);
        Line(text, "syncs_completed", stats.SyncsCompleted);
        Line(text, "sync_restarts", stats.SyncRestarts);
        Line(text, "clients", stats.Clients);
        Line(text, "connections_accepted", stats.ConnectionsAccepted);
        Line(text, "auth_failures", stats.AuthFailures);
        Line(text, "connections_open", cluster.Connections.Open);
        Line(text, "connections_budgeted_clients", cluster.Connections.Clients);
        Line(text, "connections_budgeted_nodes", cluster.Connections.Nodes);
        Line(text, "connections_refused", cluster.Connections.Refused);
        Line(text, "reads", stats.Reads);
        Line(text, "writes", stats.Writes);
        Line(text, "read_retries", stats.ReadRetries);
        Line(text, "errors", stats.Errors);
        Line(text, "node_apply_failures", stats.NodeApplyFailures);
        Line(text, "pending", cluster.PendingRequests);
        Line(text, "time_marks", cluster.Expiry.Marks);
        Line(text, "expired_keys_removed", cluster.Expiry.Removed);
        Line(text, "gc_collections", $"{GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}");
        Line(text, "allocated_bytes", GC.GetTotalAllocatedBytes());
        var nodes = cluster.Nodes.Connected;
        Line(text, "nodes", nodes.Length);
        Line(text, "nodes_serving", cluster.ServingNodeCount);
        Line(text, "clients_backpressured", stats.OutputsBackedUp);
        Line(text, "clients_cut_output_limit", stats.OutputLimitCuts);
        AppendGroups(text, cluster);
        foreach (var node in nodes)
        {
            text.Append(CultureInfo.InvariantCulture,
                $"node{node.Id}: address={node.RemoteAddress} state={node.State.ToString().ToLowerInvariant()} in_sync={(node.IsMember ? "yes" : "no")} joined={node.JoinMode.ToString().ToLowerInvariant()} replayed={node.ReplayedWrites} outstanding={node.Outstanding} hello_sequence={node.Hello.Sequence} max_record={node.Hello.MaxRecord} acked={node.AckedSequence} lag={node.Group.Sequencer.Sequence - Math.Min(node.Group.Sequencer.Sequence, node.AckedSequence)} unsent_bytes={node.Sender.UnsentBytes} oldest_unacked_ms={cluster.OldestUnacknowledged(node).TotalMilliseconds:0} silent_ms={node.SilentMs} id={node.NodeId} connected={node.ConnectedAt:O}");
            if (node.Name.Length > 0)
                text.Append(" name=").Append(node.Name);
            text.Append(" group=").Append(node.Group.Name);
            AppendStorage(text, node.Status, node.StatusHeardMs);
            text.Append('\n');
            if (node.Status is { Message.Length: > 0 } status)
                Line(text, $"node{node.Id}_storage_error", OneLine(status.Message));
        }
        foreach (var departure in cluster.Membership.Departures.Snapshot())
        {
            text.Append(CultureInfo.InvariantCulture,
                $"node{departure.Number}_left: {(Environment.TickCount64 - departure.LeftAtMs) / 1000.0:0.0} s ago: {OneLine(departure.Reason)}");
            if (departure.Link.Status is { } last)
            {
                text.Append("; last status:");
                AppendStorage(text, last, departure.Link.StatusHeardMs);
                if (last.Message.Length > 0)
                    text.Append(CultureInfo.InvariantCulture, $" error: {OneLine(last.Message)}");
            }
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>
    /// <c>groups: a,b</c>, <c>slot_map: 0-8191=a 8192-16383=b</c> (ranges of slots and their group), then per group <c>group_NAME: slots=N sequence=N history=ID in_sync=1,2 nodes=N serving=N
    /// backlog_bytes=N keys=N|unknown adopted=yes|no</c>: keys as the group's first serving node last reported them; <c>migration:</c> the slot
    /// migration under way (<see cref="Groups.MigrationCoordinator.Describe"/>) or <c>none</c>.
    /// </summary>
    private static void AppendGroups(StringBuilder text, Cluster cluster)
    {
        Line(text, "groups", string.Join(",", cluster.Groups.Select(g => g.Name)));
        Line(text, "slot_map", string.Join(" ", cluster.Slots.ToRanges().Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.First}-{r.Last}={r.Group}"))));
        Line(text, "migration", cluster.Migrations.Describe());
        var slots = cluster.Slots.SlotCounts();
        foreach (var group in cluster.Groups)
        {
            var serving = group.Nodes.Serving;
            var keys = Array.Find(serving, n => n.Status is { } s && s.KeyCount != NodeStatusReport.Unknown)?.Status?.KeyCount;
            var membership = group.Membership;
            Line(text, $"group_{group.Name}", string.Create(CultureInfo.InvariantCulture,
                $"slots={slots[group.Index]} sequence={group.Sequencer.Sequence} history={membership.Metadata.History} " +
                $"in_sync={string.Join(",", membership.Metadata.Members.Select(m => m.Number))} nodes={group.Nodes.Connected.Length} " +
                $"serving={serving.Length} backlog_bytes={group.Sequencer.Log.Bytes} keys={(keys is { } k ? k.ToString(CultureInfo.InvariantCulture) : "unknown")} " +
                $"adopted={(membership.IsAdopted ? "yes" : "no")}"));
        }
    }

    /// <summary>
    /// The node's storage as its last report said, ages counted to now: <c>storage=ok|refusing_writes
    /// checkpoint=none|ok|failed checkpoint_age_ms=N free_bytes=N checkpoints_failed=N writes_failed=N</c>.
    /// </summary>
    private static void AppendStorage(StringBuilder text, NodeStatusReport? status, long heardAtMs)
    {
        if (status is null)
        {
            text.Append(" storage=unknown");
            return;
        }
        var storage = status.Storage == NodeStorageState.Ok ? "ok" : "refusing_writes";
        var checkpoint = status.LastCheckpoint.ToString().ToLowerInvariant();
        var age = status.CheckpointAgeMs == NodeStatusReport.Unknown
            ? "none"
            : (status.CheckpointAgeMs + (ulong)Math.Max(0, Environment.TickCount64 - heardAtMs)).ToString(CultureInfo.InvariantCulture);
        var free = status.FreeBytes == NodeStatusReport.Unknown ? "unknown" : status.FreeBytes.ToString(CultureInfo.InvariantCulture);
        text.Append(CultureInfo.InvariantCulture,
            $" storage={storage} checkpoint={checkpoint} checkpoint_age_ms={age} free_bytes={free} checkpoints_failed={status.CheckpointsFailed} writes_failed={status.WritesFailed}");
        if (status.KeyCount != NodeStatusReport.Unknown)
            text.Append(CultureInfo.InvariantCulture, $" keys={status.KeyCount}");
    }

    private static string OneLine(string message) => message.ReplaceLineEndings(" ");

    private static void Line<T>(StringBuilder text, string name, T value) =>
        text.Append(CultureInfo.InvariantCulture, $"{name}: {value}\n");
}

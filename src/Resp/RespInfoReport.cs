using System.Globalization;
using System.Text;
using KvnDb.Router;

namespace KvnDb.Resp;

/// <summary>
/// INFO in Redis's format (<c># Section</c>, then <c>name:value</c> lines). The replication section
/// lists the database nodes; a last <c>kvndb</c> section repeats the native <c>info</c> report, so
/// whatever the router reports natively is visible to Redis tools too.
/// </summary>
internal static class RespInfoReport
{
    /// <summary>The Redis version KvnDb answers like (clients pick command forms by it).</summary>
    public const string RedisVersion = "7.0.15";

    public static readonly string[] DefaultSections = ["server", "clients", "memory", "persistence", "stats", "replication", "cpu", "kvndb", "keyspace"];

    /// <summary>INFO ALL and EVERYTHING: the default sections and the per-command counters.</summary>
    public static readonly string[] AllSections = [.. DefaultSections, "commandstats", "errorstats"];

    public static string Build(RespServerState server, int respPort, IReadOnlyCollection<string> sections)
    {
        var core = server.Core;
        var stats = core.Stats;
        var text = new StringBuilder();
        if (sections.Contains("server"))
        {
            Section(text, "Server");
            Line(text, "redis_version", RedisVersion);
            Line(text, "kvndb_version", typeof(RespInfoReport).Assembly.GetName().Version?.ToString(3) ?? "?");
            Line(text, "redis_mode", "standalone");
            Line(text, "os", Environment.OSVersion.VersionString);
            Line(text, "arch_bits", Environment.Is64BitProcess ? 64 : 32);
            Line(text, "process_id", Environment.ProcessId);
            Line(text, "tcp_port", respPort);
            Line(text, "kvndb_port", core.Options.Port);
            Line(text, "uptime_in_seconds", (long)(DateTimeOffset.UtcNow - server.StartedAt).TotalSeconds);
        }
        if (sections.Contains("clients"))
        {
            Section(text, "Clients");
            Line(text, "connected_clients", stats.Clients);
            Line(text, "resp_clients", server.Connections);
            Line(text, "maxclients", core.Options.MaxConnections);
        }
        if (sections.Contains("memory"))
        {
            // The router's own memory: the data lives on the nodes (their --memory budgets), not here.
            Section(text, "Memory");
            var process = System.Diagnostics.Process.GetCurrentProcess();
            Line(text, "used_memory", GC.GetTotalMemory(forceFullCollection: false));
            Line(text, "used_memory_rss", process.WorkingSet64);
            Line(text, "used_memory_peak", process.PeakWorkingSet64);
            Line(text, "maxmemory", 0);
            Line(text, "maxmemory_policy", "noeviction");
            Line(text, "mem_fragmentation_ratio", "1.00");
        }
        if (sections.Contains("persistence"))
        {
            // Nodes checkpoint on their own schedule (docs/storage.md); nothing here is a Redis RDB or AOF.
            Section(text, "Persistence");
            Line(text, "loading", 0);
            Line(text, "async_loading", 0);
            Line(text, "rdb_changes_since_last_save", 0);
            Line(text, "rdb_bgsave_in_progress", 0);
            Line(text, "rdb_last_save_time", server.StartedAt.ToUnixTimeSeconds());
            Line(text, "rdb_last_bgsave_status", "ok");
            Line(text, "aof_enabled", 0);
            Line(text, "aof_rewrite_in_progress", 0);
            Line(text, "aof_last_write_status", "ok");
        }
        if (sections.Contains("cpu"))
        {
            Section(text, "CPU");
            var process = System.Diagnostics.Process.GetCurrentProcess();
            Line(text, "used_cpu_sys", process.PrivilegedProcessorTime.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture));
            Line(text, "used_cpu_user", process.UserProcessorTime.TotalSeconds.ToString("F6", CultureInfo.InvariantCulture));
        }
        if (sections.Contains("stats"))
        {
            Section(text, "Stats");
            Line(text, "total_connections_received", stats.ConnectionsAccepted);
            Line(text, "total_commands_processed", server.Commands);
            Line(text, "total_reads", stats.Reads);
            Line(text, "total_writes", stats.Writes);
            Line(text, "read_retries", stats.ReadRetries);
            Line(text, "total_error_replies", server.ErrorReplies);
            Line(text, "kvndb_router_errors", stats.Errors);
            Line(text, "auth_failures", stats.AuthFailures);
            Line(text, "resp_protocol_errors", server.ProtocolErrors);
            Line(text, "pending_requests", core.PendingRequests);
        }
        if (sections.Contains("replication"))
        {
            // The router is the master of its nodes, but they are not Redis replicas: clients must not
            // connect to them, so they are listed under kvndb_ names rather than slaveN lines.
            Section(text, "Replication");
            Line(text, "role", "master");
            Line(text, "connected_slaves", 0);
            Line(text, "master_repl_offset", core.Sequence);
            Line(text, "kvndb_sequence", core.Sequence);
            var nodes = core.Nodes;
            Line(text, "kvndb_nodes", nodes.Count);
            Line(text, "kvndb_nodes_serving", core.ServingNodeCount);
            for (var i = 0; i < nodes.Count; i++)
            {
                var node = nodes[i];
                text.Append(CultureInfo.InvariantCulture,
                    $"kvndb_node{i}:id={node.Id},address={node.RemoteAddress},state={node.State},outstanding={node.Outstanding},hello_sequence={node.HelloSequence},in_sync={(node.InSync ? "yes" : "no")},acked={node.AckedSequence}\r\n");
            }
        }
        if (sections.Contains("commandstats"))
        {
            Section(text, "Commandstats");
            foreach (var info in RespCommandTable.All)
            {
                var (calls, rejected) = server.CommandCalls(info.Command);
                if (calls + rejected > 0)
                    text.Append(CultureInfo.InvariantCulture, $"cmdstat_{info.Name}:calls={calls},usec=0,usec_per_call=0.00,rejected_calls={rejected},failed_calls=0\r\n");
            }
        }
        if (sections.Contains("errorstats"))
        {
            Section(text, "Errorstats");
            if (server.ErrorReplies > 0)
                Line(text, "errorstat_ERR", $"count={server.ErrorReplies}");
        }
        if (sections.Contains("kvndb"))
        {
            Section(text, "Kvndb");
            foreach (var line in core.Info.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var colon = line.IndexOf(": ", StringComparison.Ordinal);
                text.Append(colon < 0 ? line : string.Concat(line.AsSpan(0, colon), ":", line.AsSpan(colon + 2))).Append("\r\n");
            }
        }
        if (sections.Contains("keyspace"))
            Section(text, "Keyspace"); // inside MULTI: the counts are read from a node only for INFO sent alone
        return text.ToString();
    }

    private static void Section(StringBuilder text, string name)
    {
        if (text.Length > 0)
            text.Append("\r\n");
        text.Append("# ").Append(name).Append("\r\n");
    }

    private static void Line<T>(StringBuilder text, string name, T value) =>
        text.Append(CultureInfo.InvariantCulture, $"{name}:{value}\r\n");
}

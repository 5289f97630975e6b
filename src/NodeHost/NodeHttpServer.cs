using System.Net;
using System.Text.Json;
using KvnDb.Hosting.Metrics;
using KvnDb.Node;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace KvnDb.NodeHost;

/// <summary>
/// The node's HTTP port (<c>kvndb-node --http-port</c>): <c>/metrics</c> in the Prometheus text format
/// (the node's own series, sync progress included, beside the standard process and runtime ones) and
/// <c>/health</c> (JSON; 200 while linked to the router with storage that takes writes, 503 otherwise).
/// Everything is read from the node when scraped.
/// </summary>
internal sealed class NodeHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private NodeHttpServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>The bound port (the real one when asked for 0).</summary>
    public int Port { get; }

    public static async Task<NodeHttpServer> StartAsync(string host, int port, DatabaseNode node, ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        var registry = CreateRegistry(node);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggerFactory);
        ListenOptions? bound = null;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(host), port, listen => bound = listen);
        });
        var app = builder.Build();
        app.Run(context => context.Request.Path.Value switch
        {
            "/metrics" => MetricsAsync(context, registry),
            "/health" => HealthAsync(context, node),
            _ => NotFoundAsync(context),
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return new NodeHttpServer(app, bound!.IPEndPoint!.Port);
    }

    private static CollectorRegistry CreateRegistry(DatabaseNode node)
    {
        var registry = StandardMetrics.CreateRegistry("node");
        var factory = StandardMetrics.Factory(registry);
        var engine = node.Engine;
        var health = engine.Health;
        var reads = factory.CreateCounter("kvndb_node_reads_total", "Read requests answered");
        var writes = factory.CreateCounter("kvndb_node_writes_total", "Writes applied");
        var links = factory.CreateCounter("kvndb_node_router_links_total", "Links to the router established");
        var connected = factory.CreateGauge("kvndb_node_connected", "1 while linked to the router");
        var keys = factory.CreateGauge("kvndb_node_keys", "Keys held");
        var sequence = factory.CreateGauge("kvndb_node_sequence", "Last sequence applied");
        var syncing = factory.CreateGauge("kvndb_node_syncing", "1 while a full sync is in progress");
        var syncRecords = factory.CreateGauge("kvndb_node_sync_records", "Snapshot records of the full sync in progress, by outcome (applied, replaced a divergent one, skipped as held)", ["outcome"]);
        var refusing = factory.CreateGauge("kvndb_node_storage_refusing_writes", "1 while the storage refuses writes (disk full or failing)");
        var checkpointAge = factory.CreateGauge("kvndb_node_checkpoint_age_seconds", "Age of the last successful checkpoint (-1: none yet)");
        var checkpointsFailed = factory.CreateCounter("kvndb_node_checkpoints_failed_total", "Checkpoints that failed");
        var writesFailed = factory.CreateCounter("kvndb_node_writes_failed_total", "Writes the storage failed to apply");
        registry.AddBeforeCollectCallback(() =>
        {
            reads.IncTo(node.Reads);
            writes.IncTo(node.Writes);
            links.IncTo(node.ConnectionCount);
            connected.Set(node.IsConnected ? 1 : 0);
            keys.Set(engine.Count);
            sequence.Set(engine.LastSequence);
            var progress = node.SyncProgress;
            syncing.Set(progress is null ? 0 : 1);
            syncRecords.WithLabels("applied").Set(progress?.Applied ?? 0);
            syncRecords.WithLabels("replaced").Set(progress?.Replaced ?? 0);
            syncRecords.WithLabels("skipped").Set(progress?.Skipped ?? 0);
            refusing.Set(health.RefusesWrites ? 1 : 0);
            checkpointAge.Set(health.CheckpointAge?.TotalSeconds ?? -1);
            checkpointsFailed.IncTo(health.CheckpointsFailed);
            writesFailed.IncTo(health.WritesFailed);
        });
        return registry;
    }

    private static async Task MetricsAsync(HttpContext context, CollectorRegistry registry)
    {
        context.Response.ContentType = StandardMetrics.ContentType;
        await registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task HealthAsync(HttpContext context, DatabaseNode node)
    {
        var engine = node.Engine;
        var ready = node.IsConnected && !engine.Health.RefusesWrites;
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteBoolean("ready", ready);
            json.WriteBoolean("connected", node.IsConnected);
            json.WriteBoolean("syncing", node.SyncProgress is not null);
            json.WriteString("storage", engine.Health.RefusesWrites ? "refusing_writes" : "ok");
            json.WriteString("refusal", engine.Health.Refusal);
            json.WriteNumber("keys", engine.Count);
            json.WriteNumber("sequence", engine.LastSequence);
            json.WriteString("node_id", node.Identity.NodeId);
            json.WriteEndObject();
        }
        context.Response.StatusCode = ready ? 200 : 503;
        context.Response.ContentType = "application/json; charset=utf-8";
        await context.Response.BodyWriter.WriteAsync(buffer.WrittenMemory, context.RequestAborted).ConfigureAwait(false);
    }

    private static Task NotFoundAsync(HttpContext context)
    {
        context.Response.StatusCode = 404;
        return Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
        await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}

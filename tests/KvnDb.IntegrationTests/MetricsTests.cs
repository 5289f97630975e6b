using System.Diagnostics.Metrics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using KvnDb.Client;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

/// <summary>The router's and the node's HTTP ports: Prometheus text as a scraper reads it, <c>/health</c>, the status JSON and page.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Router_metrics_follow_prometheus_conventions_and_count_known_traffic()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { HttpPort = 0 });
        await using var client = await cluster.ConnectAsync();
        for (var i = 0; i < 7; i++)
            await client.SetAsync($"k{i}", "v");
        for (var i = 0; i < 5; i++)
            await client.GetStringAsync($"k{i}");

        // In-process, as dotnet-counters sees them.
        var observed = new Dictionary<string, long>();
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, cluster.Router.Cluster.Metrics!.Meter)) // other tests' routers share the name
                    l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => observed[instrument.Name] = value);
            listener.Start();
            listener.RecordObservableInstruments();
        }
        Assert.Equal(7, observed["kvndb.router.writes"]);
        Assert.Equal(5, observed["kvndb.router.reads"]);

        using var http = new HttpClient();
        using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{cluster.Router.HttpPort}/metrics")).WaitAsync(TestCluster.Timeout);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType!.MediaType, StringComparison.Ordinal);
        var metrics = PrometheusText.Parse(await response.Content.ReadAsStringAsync());

        // Every sample belongs to a family with HELP and TYPE; counters end in _total.
        foreach (var sample in metrics.Samples)
        {
            var family = metrics.FamilyOf(sample.Name);
            Assert.True(metrics.Types.ContainsKey(family), $"no TYPE for {sample.Name}");
            Assert.True(metrics.Help.TryGetValue(family, out var help) && help.Length > 0, $"no HELP for {family}");
            if (metrics.Types[family] == "counter")
                Assert.EndsWith("_total", family, StringComparison.Ordinal);
        }
        Assert.Equal(7, metrics.Value("kvndb_router_writes_total"));
        Assert.Equal(5, metrics.Value("kvndb_router_reads_total"));
        Assert.Equal(7, metrics.Value("kvndb_router_sequence"));
        Assert.Equal(2, metrics.Value("kvndb_router_nodes", "state=serving"));
        Assert.Equal(2, metrics.Value("kvndb_router_in_sync_members"));
        foreach (var node in cluster.Router.Cluster.Nodes.Connected)
        {
            var label = "node=" + node.Id.ToString(CultureInfo.InvariantCulture);
            Assert.Equal(1, metrics.Value("kvndb_router_node_in_sync", label));
            Assert.Equal(1, metrics.Value("kvndb_router_node_state", label, "state=serving"));
            Assert.Equal(0, metrics.Value("kvndb_router_node_state", label, "state=syncing"));
            Assert.Equal(0, metrics.Value("kvndb_router_node_lag_writes", label));
        }

        // Latency: a histogram in seconds, cumulative buckets ending at +Inf with the count; the sum is positive and small.
        Assert.Equal("histogram", metrics.Types["kvndb_router_request_duration_seconds"]);
        foreach (var (kind, count) in new[] { ("write", 7), ("read", 5) })
        {
            var buckets = metrics.Find("kvndb_router_request_duration_seconds_bucket", "kind=" + kind)
                .Select(s => (Le: s.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(s.Labels["le"], NumberStyles.Float, CultureInfo.InvariantCulture), s.Value))
                .OrderBy(b => b.Le).ToList();
            Assert.Equal(LatencyHistogram.BoundsSeconds.Length + 1, buckets.Count);
            for (var i = 1; i < buckets.Count; i++)
                Assert.True(buckets[i].Value >= buckets[i - 1].Value, "buckets are cumulative");
            Assert.True(double.IsPositiveInfinity(buckets[^1].Le));
            Assert.Equal(count, buckets[^1].Value);
            Assert.Equal(count, metrics.Value("kvndb_router_request_duration_seconds_count", "kind=" + kind));
            var sum = metrics.Value("kvndb_router_request_duration_seconds_sum", "kind=" + kind);
            Assert.InRange(sum, 1e-7, count * TestCluster.Timeout.TotalSeconds);
        }

        // Build info, uptime, process and runtime.
        var build = Assert.Single(metrics.Find("kvndb_build_info", "role=router"));
        Assert.Equal(1, build.Value);
        Assert.Matches(@"^\d+\.\d+\.\d+", build.Labels["version"]);
        Assert.True(metrics.Value("kvndb_uptime_seconds") > 0);
        Assert.True(metrics.Value("process_cpu_seconds_total") > 0);
        Assert.True(metrics.Value("process_start_time_seconds") > 1_600_000_000);
        Assert.True(metrics.Value("dotnet_gc_allocated_bytes_total") > 0);
        Assert.True(metrics.Value("dotnet_thread_pool_threads") > 0);
        Assert.Contains("kvndb_router_sync_records", metrics.Types.Keys);

        var info = await RouterInfo.ReadAsync(client);
        Assert.Equal(7, info.Writes);
        Assert.Equal(5, info.Reads);
    }

    [Fact]
    public async Task A_departed_node_takes_its_series_with_it()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { HttpPort = 0, NodeEvictTimeout = TimeSpan.FromSeconds(1) });
        using var http = new HttpClient();
        var url = new Uri($"http://127.0.0.1:{cluster.Router.HttpPort}/metrics");
        var before = PrometheusText.Parse(await http.GetStringAsync(url).WaitAsync(TestCluster.Timeout));
        Assert.Equal(2, before.Find("kvndb_router_node_in_sync").Count());

        await cluster.Nodes[1].StopAsync();
        await Eventually.WaitAsync(() => cluster.Router.NodeCount == 1, what: "the router saw the node go");
        var after = PrometheusText.Parse(await http.GetStringAsync(url).WaitAsync(TestCluster.Timeout));
        Assert.Single(after.Find("kvndb_router_node_in_sync"));
        Assert.Single(after.Find("kvndb_router_node_lag_writes"));
        Assert.Equal(1, after.Value("kvndb_router_nodes", "state=serving"));
    }

    [Fact]
    public async Task A_full_sync_is_counted_and_its_progress_series_end_at_zero()
    {
        // A backlog smaller than the data: a fresh node cannot be replayed and gets a full sync.
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new RouterOptions { HttpPort = 0, SnapshotChunkBytes = 4 * 1024, BacklogBytes = 16 * 1024 });
        await using var client = await cluster.ConnectAsync();
        for (var batch = 0; batch < 20; batch++)
            await Task.WhenAll(Enumerable.Range(batch * 100, 100).Select(i => client.SetAsync($"key:{i}", new string('v', 32)).AsTask()));
        cluster.StartNode();
        await cluster.Router.WaitForServingNodesAsync(2, TestCluster.Timeout);

        using var http = new HttpClient();
        var metrics = PrometheusText.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{cluster.Router.HttpPort}/metrics")).WaitAsync(TestCluster.Timeout));
        Assert.Equal(1, metrics.Value("kvndb_router_full_syncs_total"));
        Assert.Equal(0, metrics.Value("kvndb_router_sync_restarts_total"));
        Assert.Equal(2, metrics.Find("kvndb_router_sync_records").Count());
        Assert.All(metrics.Find("kvndb_router_sync_records"), s => Assert.Equal(0, s.Value)); // no sync in progress any more
        Assert.Equal(2, metrics.Value("kvndb_router_nodes", "state=serving"));
    }

    [Fact]
    public async Task Health_says_ready_only_while_a_node_serves()
    {
        using var http = new HttpClient();
        await using (var empty = await TestCluster.StartAsync(nodes: 0, new RouterOptions { HttpPort = 0 }))
        {
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{empty.Router.HttpPort}/health")).WaitAsync(TestCluster.Timeout);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            using var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            Assert.False(health.RootElement.GetProperty("ready").GetBoolean());
            Assert.Equal(0, health.RootElement.GetProperty("serving").GetInt32());
        }

        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { HttpPort = 0 });
        using (var response = await http.GetAsync(new Uri($"http://127.0.0.1:{cluster.Router.HttpPort}/health")).WaitAsync(TestCluster.Timeout))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
            using var health = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            var root = health.RootElement;
            Assert.True(root.GetProperty("ready").GetBoolean());
            Assert.True(root.GetProperty("adopted").GetBoolean());
            Assert.Equal(2, root.GetProperty("nodes").GetInt32());
            Assert.Equal(2, root.GetProperty("serving").GetInt32());
            Assert.Equal(2, root.GetProperty("in_sync").GetInt32());
            Assert.Equal(0, root.GetProperty("in_sync_missing").GetArrayLength());
        }
        using var missing = await http.GetAsync(new Uri($"http://127.0.0.1:{cluster.Router.HttpPort}/nothing-here")).WaitAsync(TestCluster.Timeout);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Status_json_shows_the_nodes_and_a_growing_series_and_the_page_is_self_contained()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { HttpPort = 0 });
        await using var client = await cluster.ConnectAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{cluster.Router.HttpPort}/") };
        for (var i = 0; i < 20; i++)
            await client.SetAsync($"k{i}", "v");

        // The series gains a point a second: wait for two samples that saw requests.
        JsonElement status = default;
        await Eventually.WaitAsync(async () =>
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("status.json", UriKind.Relative)));
            status = document.RootElement.Clone();
            await client.SetAsync("tick", "v");
            return status.GetProperty("series").GetProperty("t").GetArrayLength() >= 2;
        }, what: "two samples in the status series");
        var nodes = status.GetProperty("nodes");
        Assert.Equal(2, nodes.GetArrayLength());
        foreach (var node in nodes.EnumerateArray())
        {
            Assert.Equal("serving", node.GetProperty("state").GetString());
            Assert.True(node.GetProperty("in_sync").GetBoolean());
            Assert.Equal(0, node.GetProperty("lag").GetInt64());
        }
        Assert.Equal(2, status.GetProperty("in_sync").GetArrayLength());
        Assert.True(status.GetProperty("router").GetProperty("writes").GetInt64() >= 20);

        // Each node's key count comes with its storage reports: k0..k19 and tick.
        await Eventually.WaitAsync(async () =>
        {
            using var document = JsonDocument.Parse(await http.GetStringAsync(new Uri("status.json", UriKind.Relative)));
            return document.RootElement.GetProperty("nodes").EnumerateArray()
                .All(node => node.TryGetProperty("keys", out var keys) && keys.GetInt64() == 21);
        }, what: "every node's key count in status.json");
        var series = status.GetProperty("series");
        Assert.Equal(series.GetProperty("t").GetArrayLength(), series.GetProperty("ops").GetArrayLength());
        Assert.Equal(series.GetProperty("t").GetArrayLength(), series.GetProperty("p99_ms").GetArrayLength());
        Assert.Contains(series.GetProperty("ops").EnumerateArray(), o => o.GetDouble() > 0);
        Assert.Contains(series.GetProperty("p99_ms").EnumerateArray(), p => p.ValueKind == JsonValueKind.Number && p.GetDouble() > 0);

        var page = await http.GetStringAsync(new Uri("/", UriKind.Relative));
        Assert.Contains("<title>KvnDb status</title>", page, StringComparison.Ordinal);
        Assert.DoesNotContain("/*INITIAL_STATUS*/", page, StringComparison.Ordinal); // the status is inlined
        Assert.Contains("\"nodes\":[{", page, StringComparison.Ordinal);
        Assert.DoesNotContain("//cdn", page, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", page, StringComparison.Ordinal);
        foreach (var asset in new[] { "status.js", "status.css" })
        {
            using var response = await http.GetAsync(new Uri(asset, UriKind.Relative));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(body.Length > 100);
            Assert.DoesNotContain("https://", body, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Node_http_port_serves_its_own_metrics_and_health()
    {
        await using var router = await RouterHost.StartAsync(new RouterOptions { Port = 0, JoinGrace = TimeSpan.FromMilliseconds(50) });
        await using var node = NodeProcess.Start(router.Port, ["--engine", "ram", "--http-port", "0"]);
        await node.WaitForLineAsync("(/metrics, /health)", NodeProcess.Timeout, standardError: true);
        var port = HttpPortIn(node.Stderr);
        await router.WaitForServingNodesAsync(1, NodeProcess.Timeout);
        var client = await KvnDbClient.ConnectAsync(new KvnDbClientOptions { Port = router.Port }).WaitAsync(TestCluster.Timeout);
        await using (client)
        {
            for (var i = 0; i < 3; i++)
                await client.SetAsync($"k{i}", "v");
            await client.GetStringAsync("k0");
        }

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/") };
        var metrics = PrometheusText.Parse(await http.GetStringAsync(new Uri("metrics", UriKind.Relative)).WaitAsync(TestCluster.Timeout));
        foreach (var sample in metrics.Samples)
            Assert.True(metrics.Help.ContainsKey(metrics.FamilyOf(sample.Name)), $"no HELP for {sample.Name}");
        Assert.Equal(3, metrics.Value("kvndb_node_writes_total"));
        Assert.Equal(1, metrics.Value("kvndb_node_reads_total"));
        Assert.Equal(3, metrics.Value("kvndb_node_keys"));
        Assert.Equal(3, metrics.Value("kvndb_node_sequence"));
        Assert.Equal(1, metrics.Value("kvndb_node_connected"));
        Assert.Equal(0, metrics.Value("kvndb_node_syncing"));
        Assert.Equal(0, metrics.Value("kvndb_node_sync_records", "outcome=applied"));
        Assert.Equal(1, Assert.Single(metrics.Find("kvndb_build_info", "role=node")).Value);
        Assert.True(metrics.Value("process_cpu_seconds_total") > 0);

        using var health = JsonDocument.Parse(await http.GetStringAsync(new Uri("health", UriKind.Relative)));
        Assert.True(health.RootElement.GetProperty("ready").GetBoolean());
        Assert.Equal(3, health.RootElement.GetProperty("keys").GetInt64());
        await NodeProcess.StopAsync(node);
    }

    private static int HttpPortIn(string log)
    {
        var match = System.Text.RegularExpressions.Regex.Match(log, @"HTTP on http://127\.0\.0\.1:(\d+)/");
        Assert.True(match.Success, log);
        return int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }
}

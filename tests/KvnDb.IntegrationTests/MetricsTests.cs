using KvnDb.Client;
using System.Diagnostics.Metrics;
using KvnDb.Router;

namespace KvnDb.IntegrationTests;

public sealed class MetricsTests
{
    [Fact]
    public async Task Router_metrics_and_the_prometheus_endpoint_show_known_traffic()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2, new RouterOptions { MetricsPort = 0 });
        await using var client = await cluster.ConnectAsync();
        for (var i = 0; i < 7; i++)
            await client.SetAsync($"k{i}", "v");
        for (var i = 0; i < 5; i++)
            await client.GetStringAsync($"k{i}");

        // In-process, as dotnet-counters would see them.
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
        Assert.Equal(7, observed["kvndb.router.sequence"]);

        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://127.0.0.1:{cluster.Router.MetricsPort}/metrics").WaitAsync(TestCluster.Timeout);
        Assert.Contains("kvndb_router_writes_total 7\n", text);
        Assert.Contains("kvndb_router_reads_total 5\n", text);
        Assert.Contains("kvndb_router_nodes{state=\"serving\"} 2\n", text);
        Assert.Contains("# TYPE kvndb_router_request_duration_seconds histogram", text);
        Assert.Contains("kvndb_router_request_duration_seconds_count{kind=\"write\"} 7\n", text);
        Assert.Contains("kvndb_node_writes_total", text);

        var info = await RouterInfo.ReadAsync(client);
        Assert.Equal(7, info.Writes);
        Assert.Equal(5, info.Reads);
    }
}

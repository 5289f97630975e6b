using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace KvnDb.Router;

/// <summary>
/// Renders this router's instruments and the process's node instruments in the Prometheus text format
/// (<c>--metrics-port</c>, path <c>/metrics</c>). Everything is read at scrape time: observable
/// instruments through a listener, request latency from the router's pre-aggregated
/// <see cref="LatencyHistogram"/>s, so serving requests costs nothing per measurement.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private const string LatencyName = "kvndb_router_request_duration_seconds";
    private readonly RouterMetrics _routerMetrics;
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Name, string Tags), Series> _series = new();

    public PrometheusExporter(RouterMetrics routerMetrics)
    {
        _routerMetrics = routerMetrics;
        routerMetrics.Exported = true;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Only observable instruments: a per-measurement callback would run on every request.
            if (instrument.IsObservable && (ReferenceEquals(instrument.Meter, routerMetrics.Meter) || instrument.Meter.Name == "KvnDb.Node"))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<int>((i, value, tags, _) => Record(i, value, tags));
        _listener.SetMeasurementEventCallback<double>((i, value, tags, _) => Record(i, value, tags));
        _listener.Start();
    }

    public string Render()
    {
        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var group in _series.OrderBy(s => s.Key.Name).GroupBy(s => s.Key.Name))
        {
            var first = group.First().Value;
            var name = PrometheusName(group.Key, first);
            text.Append(CultureInfo.InvariantCulture, $"# TYPE {name} {first.Type}\n");
            foreach (var (key, series) in group)
                series.Render(text, name, key.Tags);
        }
        text.Append(CultureInfo.InvariantCulture, $"# HELP {LatencyName} Time from a request's arrival until every node involved has answered\n");
        text.Append(CultureInfo.InvariantCulture, $"# TYPE {LatencyName} histogram\n");
        foreach (var kind in (ReadOnlySpan<PendingKind>)[PendingKind.Read, PendingKind.Write, PendingKind.Digest])
            _routerMetrics.Histogram(kind).Render(text, LatencyName, $"kind=\"{RouterMetrics.KindName(kind)}\"");
        return text.ToString();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var tagText = tags.Length == 0 ? "" : string.Join(",", tags.ToArray().Select(t => $"{t.Key}=\"{t.Value}\""));
        var series = _series.GetOrAdd((instrument.Name, tagText), _ => new Series(instrument));
        series.Record(value);
    }

    private static string PrometheusName(string name, Series series)
    {
        var baseName = name.Replace('.', '_');
        if (series.Unit == "ms")
            baseName += "_milliseconds";
        return series.Type == "counter" ? baseName + "_total" : baseName;
    }

    public void Dispose() => _listener.Dispose();

    private sealed class Series(Instrument instrument)
    {
        private readonly Lock _lock = new();
        private double _value;

        public string? Unit => instrument.Unit;

        public string Type => instrument switch
        {
            ObservableCounter<long> or ObservableCounter<int> or Counter<long> => "counter",
            _ => "gauge",
        };

        public void Record(double value)
        {
            lock (_lock)
                _value = value; // observable instruments report their current total
        }

        public void Render(StringBuilder text, string name, string tags)
        {
            lock (_lock)
                text.Append(CultureInfo.InvariantCulture, $"{name}{Braces(tags)} {_value}\n");
        }

        private static string Braces(string tags) => tags.Length == 0 ? "" : "{" + tags + "}";
    }
}

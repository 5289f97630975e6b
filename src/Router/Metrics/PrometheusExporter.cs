using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace KvnDb.Router;

/// <summary>
/// Renders this router's instruments and the process's node instruments in the Prometheus text format
/// (<c>--metrics-port</c>, path <c>/metrics</c>). Observable instruments are read at scrape time;
/// histograms are kept as cumulative buckets.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private static readonly double[] BucketBounds = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000];
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Name, string Tags), Series> _series = new();

    public PrometheusExporter(RouterMetrics routerMetrics)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter, routerMetrics.Meter) || instrument.Meter.Name == "KvnDb.Node")
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
        private readonly long[] _buckets = new long[BucketBounds.Length + 1];
        private double _value;
        private double _sum;
        private long _count;

        public string? Unit => instrument.Unit;

        public string Type => instrument switch
        {
            Histogram<double> => "histogram",
            ObservableCounter<long> or ObservableCounter<int> or Counter<long> => "counter",
            _ => "gauge",
        };

        public void Record(double value)
        {
            lock (_lock)
            {
                switch (instrument)
                {
                    case Histogram<double>:
                        _sum += value;
                        _count++;
                        var bucket = Array.FindIndex(BucketBounds, b => value <= b);
                        _buckets[bucket < 0 ? BucketBounds.Length : bucket]++;
                        break;
                    case Counter<long> or UpDownCounter<long>:
                        _value += value; // deltas
                        break;
                    default:
                        _value = value; // observable instruments report their current total
                        break;
                }
            }
        }

        public void Render(StringBuilder text, string name, string tags)
        {
            lock (_lock)
            {
                if (Type != "histogram")
                {
                    text.Append(CultureInfo.InvariantCulture, $"{name}{Braces(tags)} {_value}\n");
                    return;
                }
                long cumulative = 0;
                for (var i = 0; i < BucketBounds.Length; i++)
                {
                    cumulative += _buckets[i];
                    text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{Braces(Join(tags, $"le=\"{BucketBounds[i]}\""))} {cumulative}\n");
                }
                text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{Braces(Join(tags, "le=\"+Inf\""))} {_count}\n");
                text.Append(CultureInfo.InvariantCulture, $"{name}_sum{Braces(tags)} {_sum}\n");
                text.Append(CultureInfo.InvariantCulture, $"{name}_count{Braces(tags)} {_count}\n");
            }
        }

        private static string Join(string a, string b) => a.Length == 0 ? b : a + "," + b;

        private static string Braces(string tags) => tags.Length == 0 ? "" : "{" + tags + "}";
    }
}

using System.Diagnostics.Metrics;

namespace KvnDb.Node;

/// <summary>A node's instruments on meter <c>KvnDb.Node</c>: requests handled, keys held, last sequence, whether it is syncing.</summary>
internal sealed class NodeMetrics : IDisposable
{
    public const string MeterName = "KvnDb.Node";

    private readonly Meter _meter = new(MeterName);
    private readonly NodeStore _store;

    public NodeMetrics(NodeStore store, Func<bool> isSyncing)
    {
        _store = store;
        var engine = store.Engine;
        _meter.CreateObservableCounter("kvndb.node.reads", () => store.Reads, description: "Read requests answered");
        _meter.CreateObservableCounter("kvndb.node.writes", () => store.Writes, description: "Writes applied");
        _meter.CreateObservableGauge("kvndb.node.keys", () => engine.Count, description: "Live keys");
        _meter.CreateObservableGauge("kvndb.node.sequence", () => (long)engine.LastSequence, description: "Last sequence applied");
        _meter.CreateObservableGauge("kvndb.node.syncing", () => isSyncing() ? 1 : 0, description: "1 while a full sync is in progress");
    }

    public void Read() => _store.CountRead();

    public void Write() => _store.CountWrite();

    public void Dispose() => _meter.Dispose();
}

using System.Diagnostics.Metrics;
using KvnDb.Node.Storage;

namespace KvnDb.Node;

/// <summary>A node's instruments on meter <c>KvnDb.Node</c>: requests handled, keys held, last sequence, whether it is syncing.</summary>
internal sealed class NodeMetrics : IDisposable
{
    public const string MeterName = "KvnDb.Node";

    private readonly Meter _meter = new(MeterName);
    private long _reads;
    private long _writes;

    public NodeMetrics(IStorageEngine engine, Func<bool> isSyncing)
    {
        _meter.CreateObservableCounter("kvndb.node.reads", () => Volatile.Read(ref _reads), description: "Read requests answered");
        _meter.CreateObservableCounter("kvndb.node.writes", () => Volatile.Read(ref _writes), description: "Writes applied");
        _meter.CreateObservableGauge("kvndb.node.keys", () => engine.Count, description: "Live keys");
        _meter.CreateObservableGauge("kvndb.node.sequence", () => (long)engine.LastSequence, description: "Last sequence applied");
        _meter.CreateObservableGauge("kvndb.node.syncing", () => isSyncing() ? 1 : 0, description: "1 while a full sync is in progress");
    }

    public void Read() => Interlocked.Increment(ref _reads);

    public void Write() => Interlocked.Increment(ref _writes);

    public void Dispose() => _meter.Dispose();
}

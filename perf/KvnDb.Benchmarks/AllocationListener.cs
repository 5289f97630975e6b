using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace KvnDb.Benchmarks;

/// <summary>
/// Samples allocations by type from the runtime's own events (GCAllocationTick: one event per ~100 KB
/// allocated, naming the type that crossed the mark), so a hot-path allocation shows up by name
/// without a profiler.
/// </summary>
internal sealed class AllocationListener : EventListener
{
    private const int GcKeyword = 0x1;
    private const int AllocationTickEventId = 10;
    private readonly ConcurrentDictionary<string, long> _bytesByType = new();
    private volatile bool _recording;

    public void Start()
    {
        _bytesByType.Clear();
        _recording = true;
    }

    public void Stop() => _recording = false;

    public IReadOnlyList<KeyValuePair<string, long>> Top(int count) =>
        [.. _bytesByType.OrderByDescending(pair => pair.Value).Take(count)];

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_recording || eventData.EventId != AllocationTickEventId || eventData.Payload is null || eventData.PayloadNames is null)
            return;
        var typeIndex = eventData.PayloadNames.IndexOf("TypeName");
        var amountIndex = eventData.PayloadNames.IndexOf("AllocationAmount64");
        if (typeIndex < 0 || amountIndex < 0)
            return;
        var sizeIndex = eventData.PayloadNames.IndexOf("ObjectSize");
        // The size of the sampled object tells a 64 B rented frame from a 4 KB pipe block or a 1 MiB backlog chunk.
        var size = sizeIndex >= 0 ? Convert.ToInt64(eventData.Payload[sizeIndex], System.Globalization.CultureInfo.InvariantCulture) : -1;
        var type = $"{eventData.Payload[typeIndex] as string ?? "?"} ({size} B objects)";
        var amount = Convert.ToInt64(eventData.Payload[amountIndex], System.Globalization.CultureInfo.InvariantCulture);
        _bytesByType.AddOrUpdate(type, amount, (_, total) => total + amount);
    }
}

using System.Threading.Channels;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// One session's monitor: a bounded queue of events (offered without waiting, dropped and counted when
/// full) and a pump that writes them to the session as monitor frames, flushing once per batch, and a
/// Dropped notice when it fell behind. A monitor that stops reading altogether meets the output limit
/// like any client.
/// </summary>
internal sealed class MonitorSubscription
{
    /// <summary>Events a monitor may be behind before new ones are dropped.</summary>
    public const int Capacity = 4096;

    private readonly Channel<MonitorEvent> _events = Channel.CreateBounded<MonitorEvent>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    private readonly OutputChannel _output;
    private readonly ulong _requestId;
    private long _dropped;

    public MonitorSubscription(long sessionId, OutputChannel output, ulong requestId)
    {
        SessionId = sessionId;
        _output = output;
        _requestId = requestId;
        Pump = Task.Run(PumpAsync);
    }

    public long SessionId { get; }

    /// <summary>Ends when the stream ended (its last frame written); never faults.</summary>
    public Task Pump { get; }

    public void Offer(in MonitorEvent monitorEvent)
    {
        if (!_events.Writer.TryWrite(monitorEvent))
            Interlocked.Increment(ref _dropped);
    }

    public void Complete() => _events.Writer.TryComplete();

    private async Task PumpAsync()
    {
        var reader = _events.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (reader.TryRead(out var next))
            {
                var dropped = Interlocked.Exchange(ref _dropped, 0);
                if (dropped > 0)
                    Write(new MonitorEvent(MonitorEventKind.Dropped, next.TimeMicros, (ulong)dropped, Opcode.Monitor, 0, 0, [], ""));
                Write(next);
            }
            _output.Flush();
        }
        // The end of the stream: a frame without More.
        _output.WriteStatus(Opcode.Monitor, _requestId, StatusCode.Ok);
        _output.Flush();
    }

    private void Write(MonitorEvent monitorEvent) =>
        _output.Write((Event: monitorEvent, RequestId: _requestId), static (w, s) => s.Event.Write(w, s.RequestId));
}

using System.Threading.Channels;
using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>A monitor: event frames (flag More) until the router ends the stream or the client stops it.</summary>
internal sealed class PendingMonitorStream : PendingOperation
{
    private readonly Channel<MonitorEvent> _events = Channel.CreateUnbounded<MonitorEvent>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });

    public ChannelReader<MonitorEvent> Events => _events.Reader;

    public override bool OnResponse(in FrameHeader header, ReadOnlySpan<byte> body)
    {
        if (header.Status.IsError())
        {
            _events.Writer.TryComplete(ErrorMapper.ToException(header.Status, ErrorReply.Read(body)));
            return true;
        }
        if (!header.HasMore)
        {
            _events.Writer.TryComplete();
            return true;
        }
        if (!MonitorEvent.TryRead(body, out var monitorEvent))
        {
            _events.Writer.TryComplete(new KvnDbProtocolException("malformed monitor event"));
            return true;
        }
        _events.Writer.TryWrite(monitorEvent);
        return false;
    }

    public override void Fail(Exception error) => _events.Writer.TryComplete(error);
}

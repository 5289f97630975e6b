using System.Threading.Channels;
using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>
/// A key listing: chunk frames arrive until one without the More flag. Keys are copied into a
/// channel as they arrive: the read loop never waits for one slow consumer, so a consumer that lags holds the keys it has not read yet.
/// </summary>
internal sealed class PendingKeyStream : PendingOperation
{
    private readonly Channel<byte[]> _keys = Channel.CreateUnbounded<byte[]>(new UnboundedChannelOptions { SingleWriter = true, SingleReader = true });

    public ChannelReader<byte[]> Keys => _keys.Reader;

    public override bool OnResponse(in FrameHeader header, ReadOnlySpan<byte> body)
    {
        if (header.Status.IsError())
        {
            _keys.Writer.TryComplete(ErrorMapper.ToException(header.Status, ErrorReply.Read(body)));
            return true;
        }
        var valid = KeyListChunk.TryRead(body, out var chunk);
        while (valid && chunk.TryReadNext(out var key))
            _keys.Writer.TryWrite(key.ToArray());
        if (!valid || !chunk.IsComplete)
        {
            _keys.Writer.TryComplete(new KvnDbProtocolException("malformed key chunk"));
            return true;
        }
        if (header.HasMore)
            return false;
        _keys.Writer.TryComplete();
        return true;
    }

    public override void Fail(Exception error) => _keys.Writer.TryComplete(error);
}

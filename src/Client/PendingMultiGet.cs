using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>
/// A multi-get, asked with More (the client reads a reply in chunks): the values arrive in one frame, or, when they
/// would pass the router's frame limit, in several frames of consecutive entries (all but the last with More), put
/// together here in request order.
/// </summary>
internal sealed class PendingMultiGet(int expected) : PendingOperation
{
    private readonly TaskCompletionSource<byte[]?[]> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly byte[]?[] _values = new byte[]?[expected];
    private int _filled;

    /// <summary>Every value in request order, null for a missing key; faults with the router's error.</summary>
    public Task<byte[]?[]> Values => _done.Task;

    public override bool OnResponse(in FrameHeader header, ReadOnlySpan<byte> body)
    {
        if (header.Status.IsError())
        {
            _done.TrySetException(ErrorMapper.ToException(header.Status, ErrorReply.Read(body)));
            return true;
        }
        var left = expected - _filled;
        if (header.Status != StatusCode.Ok || !MultiGetReply.TryRead(body, out var reply))
            return Malformed("malformed multi-get reply");
        if (header.HasMore ? reply.Count == 0 || reply.Count >= left : reply.Count != left)
            return Malformed($"multi-get reply has {_filled} + {reply.Count} values for {expected} keys");
        while (reply.TryReadNext(out var value, out var found))
            _values[_filled++] = found ? value.ToArray() : null;
        if (!reply.IsComplete)
            return Malformed("malformed multi-get reply");
        if (header.HasMore)
            return false;
        _done.TrySetResult(_values);
        return true;
    }

    public override void Fail(Exception error) => _done.TrySetException(error);

    private bool Malformed(string message)
    {
        _done.TrySetException(new KvnDbProtocolException(message));
        return true;
    }
}

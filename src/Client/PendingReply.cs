using System.Threading.Tasks.Sources;
using KvnDb.Protocol;
using Microsoft.Extensions.ObjectPool;

namespace KvnDb.Client;

/// <summary>
/// A single-response request. Pooled and awaited as a <see cref="ValueTask{Reply}"/> through
/// <see cref="ManualResetValueTaskSourceCore{TResult}"/>, so a request allocates no task or completion source.
/// Continuations run asynchronously so user code never runs on the connection's read loop.
/// </summary>
internal sealed class PendingReply : PendingOperation, IValueTaskSource<Reply>
{
    private ManualResetValueTaskSourceCore<Reply> _core = new() { RunContinuationsAsynchronously = true };
    private int _completed;

    public ObjectPool<PendingReply>? Pool { get; set; }

    public ValueTask<Reply> Task => new(this, _core.Version);

    public override bool OnResponse(in FrameHeader header, ReadOnlySpan<byte> body)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
            _core.SetResult(new Reply(header.Status, CopyPayload(header, body)));
        return true;
    }

    public override void Fail(Exception error)
    {
        if (Interlocked.Exchange(ref _completed, 1) == 0)
            _core.SetException(error);
    }

    /// <summary>A Get's value is its one field; everything else (multi-get, info, error message) keeps the whole body.</summary>
    private static byte[]? CopyPayload(in FrameHeader header, ReadOnlySpan<byte> body)
    {
        if (body.IsEmpty)
            return header.Status == StatusCode.Ok && header.Opcode == Opcode.Get ? [] : null;
        if (header.Opcode == Opcode.Get && header.Status == StatusCode.Ok)
            return ValueReply.TryRead(body, out var value) ? value.ToArray() : null;
        return body.ToArray();
    }

    public Reply GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _core.Reset();
            _completed = 0;
            Pool?.Return(this);
        }
    }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}

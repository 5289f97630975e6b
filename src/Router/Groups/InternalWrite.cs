using System.Buffers;
using System.IO.Pipelines;
using KvnDb.Protocol;

namespace KvnDb.Router.Groups;

/// <summary>
/// A write the router itself sequences in one group's log (a migration's chunk, FlushSlots, a barrier), awaited like a
/// client's: it completes with the status once the group's write concern is met (every in-sync member applied it, and so
/// every write before it), or with the error that ended it (Unavailable when no in-sync member took it, or on the write timeout).
/// </summary>
internal sealed class InternalWrite : IReplyTarget
{
    private readonly TaskCompletionSource<StatusCode> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private InternalWrite()
    {
    }

    /// <summary>Never written: the outcome is read in the callbacks, not sent anywhere.</summary>
    public OutputChannel Output { get; } = new(new Pipe().Writer);

    /// <summary>The error message of a failed write.</summary>
    public string? Message { get; private set; }

    public Task<StatusCode> Completion => _done.Task;

    /// <summary>Appends <paramref name="frame"/> (a whole request frame) to the group's log now, before returning; the outcome comes later.</summary>
    public static InternalWrite Submit(ReplicaGroup group, byte[] frame)
    {
        var write = new InternalWrite();
        var flush = new FlushSet();
        group.Sequencer.SubmitWrite(write, FrameHeader.Read(frame), new ReadOnlySequence<byte>(frame), flush);
        flush.FlushAll();
        return write;
    }

    /// <summary>A FlushSlots of <paramref name="slotSet"/> in <paramref name="group"/> (an empty set is a barrier).</summary>
    public static InternalWrite FlushSlots(ReplicaGroup group, ReadOnlySpan<byte> slotSet)
    {
        var frame = new byte[ProtocolLimits.HeaderSize + FlushSlotsRequest.Size];
        FlushSlotsRequest.WriteFrame(frame, 1, slotSet);
        return Submit(group, frame);
    }

    public void Forward(in ReadOnlySequence<byte> frame, ulong requestId) => _done.TrySetResult(FrameHeader.Read(frame).Status);

    public void Status(Opcode opcode, ulong requestId, StatusCode status) => _done.TrySetResult(status);

    public void Error(Opcode opcode, ulong requestId, StatusCode status, string message)
    {
        Message = message;
        _done.TrySetResult(status);
    }

    public void Raw(Opcode opcode, ulong requestId, ReadOnlySpan<byte> body) => _done.TrySetResult(StatusCode.Ok);
}

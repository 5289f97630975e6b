using KvnDb.Protocol;

namespace KvnDb.Client;

/// <summary>A request waiting for its answer, found by request id when a response frame arrives.</summary>
internal abstract class PendingOperation
{
    public ulong RequestId { get; set; }

    public Opcode Opcode { get; set; }

    /// <summary>When the request gives up (ticks of <see cref="Environment.TickCount64"/>).</summary>
    public long DeadlineMs { get; set; }

    /// <summary>It holds one of the router's in-flight slots (<see cref="InFlightSlots"/>) until its final reply.</summary>
    public bool HoldsSlot { get; set; }

    /// <summary>Takes one response frame (copying what it keeps); returns true when the operation is complete.</summary>
    public abstract bool OnResponse(in FrameHeader header, ReadOnlySpan<byte> body);

    /// <summary>Ends the operation with an error (timeout, connection lost, cancellation).</summary>
    public abstract void Fail(Exception error);
}

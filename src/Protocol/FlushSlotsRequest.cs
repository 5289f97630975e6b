namespace KvnDb.Protocol;

/// <summary>
/// The body of a <see cref="Opcode.FlushSlots"/> write, sequenced by the router in one group's log: <c>[slot set,
/// <see cref="SlotSet.Size"/> bytes]</c>; every node of the group deletes every key whose slot is in the set, at the
/// write's sequence. Answered with a bare Ok. An empty set deletes nothing (the router uses it as a barrier: once
/// every in-sync node answered it, they applied every write before it).
/// </summary>
public static class FlushSlotsRequest
{
    public const int Size = SlotSet.Size;

    /// <summary>The whole frame (header and body) into <paramref name="destination"/>; returns its length.</summary>
    public static int WriteFrame(Span<byte> destination, ulong requestId, ReadOnlySpan<byte> slots)
    {
        var frame = FrameBuilder.Start(destination, new FrameHeader(Size, Opcode.FlushSlots, FrameFlags.None, StatusCode.Ok, requestId));
        frame.Bytes(slots[..SlotSet.Size]);
        return frame.Complete();
    }

    public static bool TryRead(ReadOnlySpan<byte> body, out ReadOnlySpan<byte> slots)
    {
        slots = body.Length == Size ? body : default;
        return body.Length == Size;
    }
}

using System.Text;

namespace KvnDb.Protocol;

/// <summary>What a <see cref="Opcode.SlotControl"/> asks of the router. Values are part of the wire format.</summary>
public enum SlotControlAction : byte
{
    /// <summary>Move <c>count</c> slots of group <c>from</c> to group <c>to</c> online (<c>kvndb slots move</c>).</summary>
    Move = 1,
}

/// <summary>
/// The body of a <see cref="Opcode.SlotControl"/>: <c>[u8 action][field from][field to][u32 count]</c>, the group names
/// in ASCII (<see cref="HelloRequest.IsValidGroupName"/>). The router answers Ok with a UTF-8 line saying what it
/// started (the work goes on after the reply: <c>info</c>'s <c>migration</c> line follows it), or an error status
/// with the reason (Unavailable while a migration runs or a group has no serving node, ProtocolError for a bad request).
/// </summary>
public static class SlotControlRequest
{
    public static int BodyLength(int fromLength, int toLength) => 1 + FrameWriter.FieldSize(fromLength) + FrameWriter.FieldSize(toLength) + 4;

    public static int WriteBody(Span<byte> destination, SlotControlAction action, string from, string to, int count)
    {
        var fromBytes = Encoding.ASCII.GetBytes(from);
        var toBytes = Encoding.ASCII.GetBytes(to);
        var body = FrameBuilder.Body(destination[..BodyLength(fromBytes.Length, toBytes.Length)]);
        body.Byte((byte)action);
        body.Field(fromBytes);
        body.Field(toBytes);
        body.UInt32((uint)count);
        return body.Complete();
    }

    /// <summary>Whether the body is well formed (allocates nothing: the validator's check).</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> body) => TryReadFields(body, out _, out _, out _, out _);

    /// <summary>False for an unknown action, a malformed body, a name that is no group name, or a count above <see cref="KeySlot.Count"/>.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out SlotControlAction action, out string from, out string to, out int count)
    {
        from = to = "";
        if (!TryReadFields(body, out action, out var fromBytes, out var toBytes, out count))
            return false;
        from = Encoding.ASCII.GetString(fromBytes);
        to = Encoding.ASCII.GetString(toBytes);
        return true;
    }

    private static bool TryReadFields(ReadOnlySpan<byte> body, out SlotControlAction action, out ReadOnlySpan<byte> from, out ReadOnlySpan<byte> to, out int count)
    {
        action = default;
        from = to = default;
        count = 0;
        var reader = new BodyReader(body);
        if (!reader.TryReadByte(out var kind) || kind != (byte)SlotControlAction.Move
            || !reader.TryReadField(out from) || !reader.TryReadField(out to)
            || !reader.TryReadUInt32(out var slots) || !reader.IsAtEnd || slots > KeySlot.Count
            || !IsGroupName(from) || !IsGroupName(to))
            return false;
        action = (SlotControlAction)kind;
        count = (int)slots;
        return true;
    }

    /// <summary><see cref="HelloRequest.IsValidGroupName"/> over ASCII bytes.</summary>
    private static bool IsGroupName(ReadOnlySpan<byte> name)
    {
        if (name.IsEmpty || name.Length > HelloRequest.MaxGroupNameBytes)
            return false;
        foreach (var b in name)
            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.'))
                return false;
        return true;
    }
}

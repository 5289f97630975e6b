using System.Text;

namespace KvnDb.Protocol;

/// <summary>What a <see cref="Opcode.GroupControl"/> asks of the router. Values are part of the wire format.</summary>
public enum GroupControlAction : byte
{
    /// <summary>Add an empty replica group to the running router (<c>kvndb groups add NAME</c>).</summary>
    Add = 1,
}

/// <summary>
/// The body of a <see cref="Opcode.GroupControl"/>: <c>[u8 action][field name]</c>, the group's name in ASCII
/// (<see cref="HelloRequest.IsValidGroupName"/>). The router answers Ok with a UTF-8 line once the group is durable in
/// its metadata (nodes may then join it with <c>kvndb-node --group NAME</c>; it owns no slot until slots are moved to
/// it), or an error status with the reason.
/// </summary>
public static class GroupControlRequest
{
    public static int BodyLength(int nameLength) => 1 + FrameWriter.FieldSize(nameLength);

    public static int WriteBody(Span<byte> destination, GroupControlAction action, string name)
    {
        var nameBytes = Encoding.ASCII.GetBytes(name);
        var body = FrameBuilder.Body(destination[..BodyLength(nameBytes.Length)]);
        body.Byte((byte)action);
        body.Field(nameBytes);
        return body.Complete();
    }

    /// <summary>Whether the body is well formed (allocates nothing: the validator's check).</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> body) => TryReadFields(body, out _, out _);

    /// <summary>False for an unknown action, a malformed body, or a name that is no group name.</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out GroupControlAction action, out string name)
    {
        name = "";
        if (!TryReadFields(body, out action, out var nameBytes))
            return false;
        name = Encoding.ASCII.GetString(nameBytes);
        return true;
    }

    private static bool TryReadFields(ReadOnlySpan<byte> body, out GroupControlAction action, out ReadOnlySpan<byte> name)
    {
        action = default;
        name = default;
        var reader = new BodyReader(body);
        if (!reader.TryReadByte(out var kind) || kind != (byte)GroupControlAction.Add || !reader.TryReadField(out name) || !reader.IsAtEnd
            || name.IsEmpty || name.Length > HelloRequest.MaxGroupNameBytes)
            return false;
        foreach (var b in name)
            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'.'))
                return false;
        action = (GroupControlAction)kind;
        return true;
    }
}

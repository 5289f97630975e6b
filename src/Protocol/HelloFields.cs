namespace KvnDb.Protocol;

/// <summary>
/// A decoded hello body, pointing into the frame: the password stays raw bytes so it can be
/// compared in constant time and never becomes a string. Dies with the frame's buffer.
/// </summary>
public readonly ref struct HelloFields
{
    public HelloFields(ushort version, ConnectionRole role, ReadOnlySpan<byte> password, ulong lastSequence, Guid historyId, Guid nodeId, NodeHelloFlags flags, ulong maxRecord, ReadOnlySpan<byte> nodeName = default, ReadOnlySpan<byte> groupName = default)
    {
        GroupName = groupName;
        NodeName = nodeName;
        Version = version;
        Role = role;
        Password = password;
        LastSequence = lastSequence;
        HistoryId = historyId;
        NodeId = nodeId;
        Flags = flags;
        MaxRecord = maxRecord;
    }

    public ushort Version { get; }

    public ConnectionRole Role { get; }

    public ReadOnlySpan<byte> Password { get; }

    /// <summary>Last sequence the node holds (clients: 0).</summary>
    public ulong LastSequence { get; }

    /// <summary>History the node's data belongs to (clients: empty).</summary>
    public Guid HistoryId { get; }

    /// <summary>The node's stable identity (clients: empty).</summary>
    public Guid NodeId { get; }

    public NodeHelloFlags Flags { get; }

    /// <summary>The node's name as its operator gave it (raw UTF-8, at most <see cref="HelloRequest.MaxNodeNameBytes"/>; empty: none).</summary>
    public ReadOnlySpan<byte> NodeName { get; }

    /// <summary>The replica group the node names (raw UTF-8, unchecked: the router validates it; empty: the default group).</summary>
    public ReadOnlySpan<byte> GroupName { get; }

    /// <summary>Largest key + value, in bytes, the node's store can hold (clients: 0).</summary>
    public ulong MaxRecord { get; }
}

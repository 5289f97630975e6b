using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace KvnDb.Protocol;

/// <summary>
/// Node to router, unanswered (<see cref="Opcode.NodeStatus"/>): the node's storage health, shown in the
/// router's <c>info</c>. Sent after the hello, when it changes, and about once a second.
/// <c>[u8 storage][u8 last checkpoint][u64 checkpoint age ms][u64 free bytes][u64 checkpoints failed][u64 writes failed][field message]</c>,
/// then optionally <c>[u64 keys]</c> (the keys the node holds; absent, from a node before it: unknown).
/// Ages, not times: the router adds how long ago it heard the report, so no clock is compared across machines.
/// </summary>
public sealed record NodeStatusReport(
    NodeStorageState Storage,
    NodeCheckpointState LastCheckpoint,
    ulong CheckpointAgeMs,
    ulong FreeBytes,
    ulong CheckpointsFailed,
    ulong WritesFailed,
    string Message,
    ulong KeyCount = NodeStatusReport.Unknown)
{
    /// <summary>Age or free space not known (no checkpoint yet, no data folder).</summary>
    public const ulong Unknown = ulong.MaxValue;

    private const int FixedSize = 2 + 4 * 8;

    /// <summary>Messages are for humans: a longer one is cut, so a report stays a small frame.</summary>
    public const int MaxMessageBytes = 1024;

    public void Write(IBufferWriter<byte> output, ulong requestId)
    {
        ArgumentNullException.ThrowIfNull(output);
        var message = Truncated(Message);
        var frame = FrameBuilder.Start(output, new FrameHeader(FixedSize + FrameWriter.FieldSize(Encoding.UTF8.GetByteCount(message)) + 8,
            Opcode.NodeStatus, FrameFlags.NoReply, StatusCode.Ok, requestId));
        frame.Byte((byte)Storage);
        frame.Byte((byte)LastCheckpoint);
        frame.UInt64(CheckpointAgeMs);
        frame.UInt64(FreeBytes);
        frame.UInt64(CheckpointsFailed);
        frame.UInt64(WritesFailed);
        frame.Utf8Field(message);
        frame.UInt64(KeyCount);
        frame.Complete();
    }

    /// <summary>False unless the body is exactly one report with known states (the message is copied: reports are kept).</summary>
    public static bool TryRead(ReadOnlySpan<byte> body, out NodeStatusReport? report)
    {
        report = null;
        var reader = new BodyReader(body);
        if (!reader.TryReadByte(out var storage) || storage > (byte)NodeStorageState.RefusingWrites
            || !reader.TryReadByte(out var checkpoint) || checkpoint > (byte)NodeCheckpointState.Failed
            || !reader.TryReadUInt64(out var age) || !reader.TryReadUInt64(out var free)
            || !reader.TryReadUInt64(out var checkpointsFailed) || !reader.TryReadUInt64(out var writesFailed)
            || !reader.TryReadField(out var message) || message.Length > MaxMessageBytes)
            return false;
        var keys = Unknown;
        if (!reader.IsAtEnd && (!reader.TryReadUInt64(out keys) || !reader.IsAtEnd))
            return false;
        report = new NodeStatusReport((NodeStorageState)storage, (NodeCheckpointState)checkpoint, age, free,
            checkpointsFailed, writesFailed, Encoding.UTF8.GetString(message), keys);
        return true;
    }

    private static string Truncated(string message)
    {
        if (Encoding.UTF8.GetByteCount(message) <= MaxMessageBytes)
            return message;
        var cut = message.Length;
        while (Encoding.UTF8.GetByteCount(message.AsSpan(0, cut)) > MaxMessageBytes - 3)
            cut = cut * 3 / 4;
        return string.Concat(message.AsSpan(0, cut), "...");
    }
}

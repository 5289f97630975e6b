using System.Buffers;
using System.Buffers.Binary;
using DotNext.IO;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;

namespace KvnDb.Router.Ha;

/// <summary>
/// The router group's replicated state: the latest metadata document (opaque bytes: whatever <c>RouterMetadata</c>
/// holds) and the latest leader announcement. Every router applies the same committed entries in order, so each holds
/// what the next leader adopts from. Snapshots (<c>[i32 length][document][i64 term][UTF-8 address]</c>) keep the log short.
/// </summary>
internal sealed class RouterStateMachine(DirectoryInfo location) : SimpleStateMachine(location)
{
    /// <summary>Entries between snapshots: the state is a few kilobytes, the log need not hold many.</summary>
    private const int SnapshotEvery = 16;

    private byte[]? _document;
    private LeaderRecord? _leader;

    /// <summary>The committed metadata document, or null before the group's first.</summary>
    public byte[]? Document => Volatile.Read(ref _document);

    /// <summary>The committed leader announcement, or null before the first.</summary>
    public LeaderRecord? Leader => Volatile.Read(ref _leader);

    protected override ValueTask<bool> ApplyAsync(LogEntry entry, CancellationToken token)
    {
        if (entry.IsConfiguration || !entry.TryGetPayload(out var payload) || payload.IsEmpty)
            return new(false); // a leader's no-op, or a membership configuration: nothing of ours
        var bytes = payload.ToArray();
        switch (bytes[0])
        {
            case GroupEntry.MetadataKind:
                Volatile.Write(ref _document, bytes[1..]);
                break;
            case GroupEntry.LeaderKind when GroupEntry.TryReadLeader(bytes.AsSpan(1), out var leader):
                Volatile.Write(ref _leader, leader);
                break;
        }
        return new(entry.Index % SnapshotEvery == 0);
    }

    protected override ValueTask PersistAsync(IAsyncBinaryWriter writer, CancellationToken token)
    {
        var document = Document ?? [];
        var leader = GroupEntry.Leader(Leader ?? new LeaderRecord(0, "", 0)).AsSpan(1);
        var snapshot = new byte[4 + document.Length + leader.Length];
        BinaryPrimitives.WriteInt32LittleEndian(snapshot, document.Length);
        document.CopyTo(snapshot.AsSpan(4));
        leader.CopyTo(snapshot.AsSpan(4 + document.Length));
        return writer.Invoke(snapshot, token);
    }

    protected override async ValueTask RestoreAsync(FileInfo snapshotFile, CancellationToken token)
    {
        var snapshot = await File.ReadAllBytesAsync(snapshotFile.FullName, token).ConfigureAwait(false);
        var length = snapshot.Length < 4 ? -1 : BinaryPrimitives.ReadInt32LittleEndian(snapshot);
        if (length < 0 || 4L + length > snapshot.Length || !GroupEntry.TryReadLeader(snapshot.AsSpan(4 + length), out var leader))
            throw new InvalidDataException($"router group snapshot {snapshotFile.FullName} is malformed ({snapshot.Length} bytes, document length {length})");
        Volatile.Write(ref _document, length == 0 ? null : snapshot[4..(4 + length)]);
        Volatile.Write(ref _leader, leader.Term == 0 ? null : leader);
    }
}

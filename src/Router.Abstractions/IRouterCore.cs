using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// What a front door other than the native one (RESP) needs from the router core: submit native
/// frames, register its clients, count, and read the numbers INFO shows. Replies come back through
/// the <see cref="IReplyTarget"/> given with each request.
/// </summary>
internal interface IRouterCore
{
    FrontDoorOptions Options { get; }

    RouterStats Stats { get; }

    ulong Sequence { get; }

    int PendingRequests { get; }

    int ServingNodeCount { get; }

    /// <summary>The nodes connected now.</summary>
    IReadOnlyList<NodeSummary> Nodes { get; }

    /// <summary>The native <c>info</c> text (<c>name: value</c> lines, then one line per node).</summary>
    string Info { get; }

    /// <summary>A flush set for one read batch (or one reply path that submits on its own).</summary>
    IFlushBatch CreateFlushBatch();

    void SubmitRead(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, IFlushBatch flush);

    void SubmitWrite(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, IFlushBatch flush);

    /// <summary>A reply of this many bytes went to a client (<see cref="ReplySizes.ObserveReply"/>).</summary>
    void ObserveReply(long bytes);

    /// <summary>Tracks a client for the idle-timeout sweep.</summary>
    void AddClient(ITrackedClient client);

    void RemoveClient(ITrackedClient client);
}

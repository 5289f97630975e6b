using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// Digests: every connected node is sent the digest request right after exactly the same log
/// position (under the sequencer's lock), so equal replicas report equal digests even under load.
/// The answer also names every in-sync member that is not connected (state Missing).
/// </summary>
internal sealed class DigestCoordinator(PendingTable pending, NodeTable nodes, WriteSequencer sequencer, Func<IEnumerable<int>> missingMembers)
{
    public void SubmitDigest(IReplyTarget client, in FrameHeader header, FlushSet flush)
    {
        if (pending.RentOrRefuse(client, header) is not { } request)
            return;
        lock (request)
        {
            request.Begin(PendingKind.Digest, client, header);
            request.DigestEntries = [];
            lock (sequencer.SyncRoot)
            {
                var position = sequencer.Sequence;
                // One time for every node: replicas that agree skip the same expired keys.
                var time = sequencer.Clock.Now();
                foreach (var node in nodes.Connected)
                {
                    if (node.Sender.TrySendAfter(position, (request.Id, time), static (writer, s) =>
                            TimedRead.WriteEmpty(writer, Opcode.Digest, s.Id, s.time)))
                    {
                        request.AwaitedNodes |= node.Bit;
                        flush.Add(node.Sender);
                    }
                }
            }
            Progress(request, flush);
        }
    }

    /// <summary>A node's digest. Caller holds the request's lock.</summary>
    public void OnDigestReply(PendingRequest request, NodeLink node, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        if ((request.AwaitedNodes & node.Bit) == 0)
            return;
        request.AwaitedNodes &= ~node.Bit;
        if (header.Status == StatusCode.Ok && NodeDigest.TryReadReply(frame.Slice(ProtocolLimits.HeaderSize), out var digest))
        {
            var lag = sequencer.Sequence - Math.Min(sequencer.Sequence, node.AckedSequence);
            request.DigestEntries!.Add(new NodeDigestEntry(node.Id, node.State, node.IsMember, lag, digest));
        }
        Progress(request, flush);
    }

    /// <summary>The node left: its digest is no longer awaited. Caller holds the request's lock.</summary>
    public void StopAwaiting(PendingRequest request, ulong bit, FlushSet flush)
    {
        if ((request.AwaitedNodes & bit) == 0)
            return;
        request.AwaitedNodes &= ~bit;
        Progress(request, flush);
    }

    /// <summary>Answers once no node owes a digest.</summary>
    private void Progress(PendingRequest request, FlushSet flush)
    {
        if (request.AwaitedNodes != 0)
            return;
        var entries = request.DigestEntries!;
        foreach (var number in missingMembers())
            if (!entries.Exists(e => e.NodeId == number))
                entries.Add(new NodeDigestEntry(number, NodeState.Missing, InSync: true, Lag: 0, default));
        entries.Sort((a, b) => a.NodeId.CompareTo(b.NodeId));
        var body = new byte[ClusterDigest.BodySize(entries.Count)];
        ClusterDigest.Write(body, entries);
        if (request.Client is { } client)
        {
            client.Raw(Opcode.Digest, request.ClientRequestId, body);
            flush.Add(client.Output);
        }
        pending.Finish(request);
    }
}

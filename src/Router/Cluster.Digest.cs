using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// Digests: queued to every node under the write-order lock, like a write, so every node computes its
/// digest at the same point of the write stream and equal replicas report equal digests even under load.
/// </summary>
internal sealed partial class Cluster
{
    public void SubmitDigest(IReplyTarget client, in FrameHeader header, HashSet<OutputChannel> touched)
    {
        if (RentOrRefuse(client, header) is not { } request)
            return;
        lock (request)
        {
            request.Begin(PendingKind.Digest, client, header);
            request.DigestEntries = [];
            lock (_writeOrder)
            {
                foreach (var node in _writeTargets)
                {
                    node.Output.Write(request.Id, static (writer, id) =>
                        FrameWriter.WriteHeaderOnly(writer, new FrameHeader(0, Opcode.Digest, FrameFlags.None, StatusCode.Ok, id)));
                    if (!node.Output.IsClosed)
                    {
                        request.AwaitedNodes |= 1UL << node.Slot;
                        touched.Add(node.Output);
                    }
                }
            }
            ProgressDigest(request, touched);
        }
    }

    private void OnDigestReply(PendingRequest request, NodeLink node, in FrameHeader header, in ReadOnlySequence<byte> frame, HashSet<OutputChannel> touched)
    {
        var bit = 1UL << node.Slot;
        if ((request.AwaitedNodes & bit) == 0)
            return;
        request.AwaitedNodes &= ~bit;
        Span<byte> body = stackalloc byte[NodeDigest.Size];
        if (header.Status == StatusCode.Ok && frame.Length == ProtocolLimits.HeaderSize + NodeDigest.Size)
        {
            frame.Slice(ProtocolLimits.HeaderSize).CopyTo(body);
            NodeDigest.TryRead(body, out var digest);
            request.DigestEntries!.Add(new NodeDigestEntry(node.Id, node.State, InSync: node.State == NodeState.Serving, Lag: 0, digest));
        }
        ProgressDigest(request, touched);
    }

    /// <summary>Answers once no node owes a digest (dead nodes are left out of the answer).</summary>
    private void ProgressDigest(PendingRequest request, HashSet<OutputChannel> touched)
    {
        if (request.AwaitedNodes != 0)
            return;
        var entries = request.DigestEntries!;
        entries.Sort((a, b) => a.NodeId.CompareTo(b.NodeId));
        var body = new byte[ClusterDigest.BodySize(entries.Count)];
        ClusterDigest.Write(body, entries);
        if (request.Client is { } client)
        {
            client.Raw(Opcode.Digest, request.ClientRequestId, body);
            touched.Add(client.Output);
        }
        Finish(request);
    }
}

using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router;

internal sealed partial class Cluster
{
    /// <summary>Sends a read to one serving node. The frame is kept so the read survives that node's death.</summary>
    public void SubmitRead(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, HashSet<OutputChannel> touched)
    {
        Stats.Read();
        if (RentOrRefuse(client, header) is not { } request)
            return;
        lock (request)
        {
            request.Begin(PendingKind.Read, client, header);
            request.KeepForRetry(frame);
            if (!TrySendRead(request, excluded: null, touched))
                FailRead(request, "no serving database node", touched);
        }
    }

    /// <summary>The node that owed this read died: send it to another, or fail it if it already streamed part of its answer.</summary>
    private void RetryRead(PendingRequest request, HashSet<OutputChannel> touched)
    {
        var dead = request.ReadNode;
        request.ReadNode = null;
        if (request.ChunksForwarded > 0)
        {
            FailRead(request, "the node died while streaming the key listing; run it again", touched);
            return;
        }
        Stats.ReadRetry();
        if (!TrySendRead(request, dead, touched))
            FailRead(request, "the node died and no other serving node is left", touched);
    }

    private bool TrySendRead(PendingRequest request, NodeLink? excluded, HashSet<OutputChannel> touched)
    {
        // A node can die between being picked and being written to: pick again (bounded by the node count).
        for (var attempt = 0; attempt < MaxNodes; attempt++)
        {
            var node = PickReadNode(excluded);
            if (node is null)
                return false;
            request.ReadNode = node;
            node.AddOutstanding();
            if (node.Output.TryForward(request.RetryFrameSpan, request.Id))
            {
                touched.Add(node.Output);
                return true;
            }
            node.RemoveOutstanding();
            request.ReadNode = null;
            excluded = node;
        }
        return false;
    }

    private void OnReadReply(PendingRequest request, NodeLink node, in FrameHeader header, in ReadOnlySequence<byte> frame, HashSet<OutputChannel> touched)
    {
        if (request.ReadNode != node)
            return;
        var client = request.Client;
        if (client is not null)
        {
            client.Forward(frame, request.ClientRequestId);
            touched.Add(client.Output);
        }
        if (header.HasMore && !header.Status.IsError())
        {
            request.ChunksForwarded++;
            return;
        }
        node.RemoveOutstanding();
        Finish(request);
    }

    private void FailRead(PendingRequest request, string message, HashSet<OutputChannel> touched)
    {
        Stats.Error();
        var client = request.Client;
        if (client is not null)
        {
            client.Error(request.Opcode, request.ClientRequestId, StatusCode.Unavailable, message);
            touched.Add(client.Output);
        }
        Finish(request);
    }

    /// <summary>Routes a node's reply to the request it answers; replies for finished requests are dropped.</summary>
    public void OnNodeReply(NodeLink node, in FrameHeader header, in ReadOnlySequence<byte> frame, HashSet<OutputChannel> touched)
    {
        if ((header.RequestId & SyncMessages.ControlIdBit) != 0)
        {
            OnSyncReply(node, header, frame, touched);
            return;
        }
        var request = _pending.Find(header.RequestId);
        if (request is null)
            return;
        lock (request)
        {
            if (request.Id != header.RequestId)
                return;
            switch (request.Kind)
            {
                case PendingKind.Read:
                    OnReadReply(request, node, header, frame, touched);
                    break;
                case PendingKind.Write:
                    OnWriteReply(request, node, header, frame, touched);
                    break;
                default:
                    OnDigestReply(request, node, header, frame, touched);
                    break;
            }
        }
    }

    private NodeLink? PickReadNode(NodeLink? excluded)
    {
        var nodes = Volatile.Read(ref _readTargets);
        if (nodes.Length == 0 || (nodes.Length == 1 && nodes[0] == excluded))
            return null;
        switch (_options.ReadPolicy)
        {
            case ReadPolicy.Random:
                return PickExcluding(nodes, Random.Shared.Next(nodes.Length), excluded);
            case ReadPolicy.RoundRobin:
                return PickExcluding(nodes, (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)nodes.Length), excluded);
            default:
                NodeLink? best = null;
                var ties = 0;
                foreach (var node in nodes)
                {
                    if (node == excluded)
                        continue;
                    if (best is null || node.Outstanding < best.Outstanding)
                    {
                        best = node;
                        ties = 1;
                    }
                    else if (node.Outstanding == best.Outstanding && Random.Shared.Next(++ties) == 0)
                    {
                        best = node; // reservoir sampling: uniform among the tied nodes
                    }
                }
                return best;
        }
    }

    private static NodeLink PickExcluding(NodeLink[] nodes, int index, NodeLink? excluded) =>
        nodes[index] == excluded ? nodes[(index + 1) % nodes.Length] : nodes[index];
}

using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>
/// The read path: each read goes to one serving node (least outstanding, random among ties, or the
/// configured policy), keeping its frame so it can be retried on another node when the first one
/// dies or turns suspect. Nodes receive it as a <see cref="TimedRead"/>: the router's time decides
/// which keys have expired, on every node alike.
/// </summary>
internal sealed class ReadRouter(RouterOptions options, RouterStats stats, PendingTable pending, NodeTable nodes, RouterClock clock, Func<string?> unavailableReason)
{
    private int _roundRobin;

    public void SubmitRead(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        stats.Read();
        if (pending.RentOrRefuse(client, header) is not { } request)
            return;
        lock (request)
        {
            request.Begin(PendingKind.Read, client, header);
            request.KeepForRetry(frame, clock.Now());
            if (!TrySend(request, excluded: null, flush))
                Fail(request, unavailableReason() ?? "no serving database node", flush);
        }
    }

    /// <summary>The node that owed this read died or turned suspect: send it to another. Caller holds the request's lock.</summary>
    public void Retry(PendingRequest request, FlushSet flush)
    {
        var abandoned = request.ReadNode;
        request.ReadNode = null;
        abandoned?.RemoveOutstanding();
        if (request.ChunksForwarded > 0)
        {
            Fail(request, $"the node left while streaming the {request.Opcode} reply; run it again", flush);
            return;
        }
        stats.ReadRetry();
        request.RestampRetry(clock.Now());
        if (!TrySend(request, abandoned, flush))
            Fail(request, "the node left and no other serving node is available", flush);
    }

    /// <summary>A node answered a read. Caller holds the request's lock.</summary>
    public void OnReadReply(PendingRequest request, NodeLink node, in FrameHeader header, in ReadOnlySequence<byte> frame, FlushSet flush)
    {
        if (request.ReadNode != node)
            return; // a late answer from a node the read was taken away from
        if (options.Group is { } role && !role.HoldsLease)
        {
            // Past its lease a router group's leader may have been replaced: its node may miss the newer leader's writes.
            node.RemoveOutstanding();
            Fail(request, role.ReadLeaseLost, flush);
            return;
        }
        if (request.Client is { } client)
        {
            client.Forward(frame, request.ClientRequestId);
            flush.Add(client.Output);
        }
        if (header.HasMore && !header.Status.IsError())
        {
            request.ChunksForwarded++;
            return;
        }
        node.RemoveOutstanding();
        pending.Finish(request);
    }

    private bool TrySend(PendingRequest request, NodeLink? excluded, FlushSet flush)
    {
        // A node can leave between being picked and being written to: pick again (bounded by the node count).
        for (var attempt = 0; attempt < NodeTable.MaxNodes; attempt++)
        {
            var node = Pick(excluded);
            if (node is null)
                return false;
            request.ReadNode = node;
            node.AddOutstanding();
            if (node.Sender.TrySendRead(request.RetryFrameSpan, request.Id))
            {
                flush.Add(node.Sender);
                return true;
            }
            node.RemoveOutstanding();
            request.ReadNode = null;
            excluded = node;
        }
        return false;
    }

    private void Fail(PendingRequest request, string message, FlushSet flush)
    {
        stats.Error();
        if (request.Client is { } client)
        {
            client.Error(request.Opcode, request.ClientRequestId, StatusCode.Unavailable, message);
            flush.Add(client.Output);
        }
        pending.Finish(request);
    }

    private NodeLink? Pick(NodeLink? excluded)
    {
        var serving = nodes.Serving;
        if (serving.Length == 0 || (serving.Length == 1 && serving[0] == excluded))
            return null;
        switch (options.ReadPolicy)
        {
            case ReadPolicy.Random:
                return PickExcluding(serving, Random.Shared.Next(serving.Length), excluded);
            case ReadPolicy.RoundRobin:
                return PickExcluding(serving, (int)((uint)Interlocked.Increment(ref _roundRobin) % (uint)serving.Length), excluded);
            default:
                NodeLink? best = null;
                var ties = 0;
                foreach (var node in serving)
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

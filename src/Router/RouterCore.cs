using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>The <see cref="IRouterCore"/> that RESP sessions see: the cluster and the client registry behind a narrow surface.</summary>
internal sealed class RouterCore(Cluster cluster, ClientRegistry clients) : IRouterCore
{
    public FrontDoorOptions Options { get; } = new()
    {
        Port = cluster.Options.Port,
        Password = cluster.Options.Password,
        MaxFrameSize = cluster.Options.MaxFrameSize,
        MaxKeySize = cluster.Options.MaxKeySize,
        AuthFailureDelay = cluster.Options.AuthFailureDelay,
        MaxConnections = cluster.Options.MaxConnections,
        OutputLimitBytes = cluster.Options.OutputLimitBytes,
        MaxInFlightPerClient = cluster.Options.MaxInFlightPerClient,
        OutputPauseBytes = cluster.Options.EffectiveOutputPause,
        HandshakeTimeout = cluster.Options.HandshakeTimeout,
    };

    public RouterStats Stats => cluster.Stats;

    public ulong Sequence => cluster.Sequence;

    public int PendingRequests => cluster.PendingRequests;

    public int ServingNodeCount => cluster.ServingNodeCount;

    public IReadOnlyList<NodeSummary> Nodes => Array.ConvertAll(cluster.Nodes.Connected, static node => new NodeSummary(
        node.Id, node.RemoteAddress, node.State.ToString().ToLowerInvariant(), node.Outstanding, node.Hello.Sequence, node.IsMember, node.AckedSequence));

    public string Info => InfoReport.Build(cluster);

    public IFlushBatch CreateFlushBatch() => new FlushSet();

    public void SubmitRead(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, IFlushBatch flush)
    {
        Size(client, header, frame, isWrite: false);
        cluster.SubmitRead(client, header, frame, (FlushSet)flush);
    }

    public void SubmitWrite(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, IFlushBatch flush)
    {
        Size(client, header, frame, isWrite: true);
        cluster.SubmitWrite(client, header, frame, (FlushSet)flush);
    }

    /// <summary>The native session sizes its own requests before admitting them; RESP's are sized here, as they are submitted.</summary>
    private void Size(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, bool isWrite)
    {
        using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
        if (isWrite)
            cluster.ReplySizes.LearnWrite(header.Opcode, body.Span);
        if (client is IReplyBudget budget)
            budget.Expect(cluster.ReplySizes.Estimate(header.Opcode, body.Span));
    }

    public void ObserveReply(long bytes) => cluster.ReplySizes.ObserveReply(bytes);

    public void AddClient(ITrackedClient client) => clients.Add(client);

    public void RemoveClient(ITrackedClient client) => clients.Remove(client);
}

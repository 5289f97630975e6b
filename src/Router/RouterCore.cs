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

    public void SubmitRead(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, IFlushBatch flush) =>
        cluster.SubmitRead(client, header, frame, (FlushSet)flush);

    public void SubmitWrite(IReplyTarget client, in FrameHeader header, in ReadOnlySequence<byte> frame, IFlushBatch flush) =>
        cluster.SubmitWrite(client, header, frame, (FlushSet)flush);

    public void AddClient(ITrackedClient client) => clients.Add(client);

    public void RemoveClient(ITrackedClient client) => clients.Remove(client);
}

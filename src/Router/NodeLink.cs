using System.IO.Pipelines;
using KvnDb.Protocol;

namespace KvnDb.Router;

/// <summary>A database node connected to the router: its outbound channel, its state, and the loop reading its replies.</summary>
internal sealed class NodeLink(int id, string remoteAddress, Guid helloHistory, ulong helloSequence, OutputChannel output)
{
    private int _outstanding;

    public int Id { get; } = id;

    public string RemoteAddress { get; } = remoteAddress;

    /// <summary>Last sequence the node reported in its hello.</summary>
    public ulong HelloSequence { get; } = helloSequence;

    /// <summary>History the node's data belonged to at hello.</summary>
    public Guid HelloHistory { get; } = helloHistory;

    /// <summary>Position in write masks, assigned when the node joins.</summary>
    public int Slot { get; set; } = -1;

    public SyncMode JoinMode { get; set; }

    /// <summary>Backlog writes sent to the node when it joined (replay mode).</summary>
    public int ReplayedWrites { get; set; }

    public NodeState State { get; set; } = NodeState.Syncing;

    public OutputChannel Output { get; } = output;

    public int Outstanding => Volatile.Read(ref _outstanding);

    public DateTimeOffset ConnectedAt { get; } = DateTimeOffset.UtcNow;

    public void AddOutstanding() => Interlocked.Increment(ref _outstanding);

    public void RemoveOutstanding() => Interlocked.Decrement(ref _outstanding);

    /// <summary>Reads replies until the node goes away; every complete reply of a read is routed, then touched clients flush once.</summary>
    public async Task RunAsync(PipeReader input, Cluster cluster, CancellationToken cancellationToken)
    {
        var touched = new HashSet<OutputChannel>();
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                while (true)
                {
                    var status = FrameReader.TryRead(ref buffer, cluster.Options.MaxFrameSize, out var header, out var frame);
                    if (status == FrameReadStatus.NeedMoreData)
                        break;
                    if (status == FrameReadStatus.TooLarge)
                        return; // a node breaking the protocol is treated as dead
                    cluster.OnNodeReply(this, header, frame, touched);
                }
                FlushAll(touched);
                input.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                    return;
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // The link is gone; RemoveNode below settles what it owed.
        }
        finally
        {
            cluster.RemoveNode(this, touched);
            FlushAll(touched);
        }
    }

    internal static void FlushAll(HashSet<OutputChannel> touched)
    {
        foreach (var channel in touched)
            channel.Flush();
        touched.Clear();
    }
}

namespace KvnDb.Router;

/// <summary>
/// The connected nodes: a slot each (its bit in the 64-bit masks of pending writes), and the
/// snapshot arrays the hot paths read without a lock (every connected node for sending, the
/// serving ones for reads). Changed only by membership operations, under its own short lock.
/// A replica group's table has the cluster's table as its <paramref name="cluster"/>: it lists the
/// group's nodes only, and every change is made to the cluster's table too, which gives out the
/// slots, so a node's bit is unique across groups (a pending request's mask never mixes them up).
/// </summary>
internal sealed class NodeTable(NodeTable? cluster = null)
{
    /// <summary>Nodes are tracked in a 64-bit mask per write.</summary>
    public const int MaxNodes = 64;

    private readonly Lock _lock = new();
    private readonly NodeLink?[] _slots = new NodeLink?[MaxNodes];
    private NodeLink[] _connected = [];
    private NodeLink[] _serving = [];

    /// <summary>Every connected node (syncing, serving or suspect).</summary>
    public NodeLink[] Connected => Volatile.Read(ref _connected);

    /// <summary>Nodes that take reads: admitted in-sync members that are not suspect.</summary>
    public NodeLink[] Serving => Volatile.Read(ref _serving);

    /// <summary>Gives the node a slot; false when all are taken.</summary>
    public bool TryAdd(NodeLink node)
    {
        if (cluster is not null)
        {
            if (!cluster.TryAdd(node))
                return false;
            lock (_lock)
                Volatile.Write(ref _connected, [.. _connected, node]);
            return true;
        }
        lock (_lock)
        {
            var slot = Array.IndexOf(_slots, null);
            if (slot < 0)
                return false;
            _slots[slot] = node;
            node.Slot = slot;
            Volatile.Write(ref _connected, [.. _connected, node]);
            return true;
        }
    }

    /// <summary>Frees the node's slot; call only once nothing pending awaits it any more.</summary>
    public void Remove(NodeLink node)
    {
        lock (_lock)
        {
            if (cluster is null && node.Slot >= 0 && _slots[node.Slot] == node)
                _slots[node.Slot] = null;
            Volatile.Write(ref _connected, [.. _connected.Where(n => n != node)]);
            Volatile.Write(ref _serving, [.. _serving.Where(n => n != node)]);
        }
        cluster?.Remove(node);
    }

    /// <summary>Starts or stops sending reads to the node.</summary>
    public void SetServing(NodeLink node, bool serving)
    {
        cluster?.SetServing(node, serving);
        lock (_lock)
        {
            var present = Array.IndexOf(_serving, node) >= 0;
            if (serving && !present && Array.IndexOf(_connected, node) >= 0)
                Volatile.Write(ref _serving, [.. _serving, node]);
            else if (!serving && present)
                Volatile.Write(ref _serving, [.. _serving.Where(n => n != node)]);
        }
    }

    public NodeLink? Find(Guid nodeId) => Array.Find(Connected, n => n.NodeId == nodeId);
}

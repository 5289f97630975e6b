namespace KvnDb.Router.Membership;

/// <summary>
/// The nodes that left, and why, until they are admitted again: <c>info</c> shows them. A node whose disk
/// failed is not connected while it waits for its storage, and its last report (free space, the failed
/// checkpoint) is then the most useful thing an operator can see. Bounded: the oldest entry goes first.
/// </summary>
internal sealed class DepartureLog
{
    private const int Kept = 64;

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Departure> _departures = [];

    public void Record(NodeLink node, string reason)
    {
        lock (_lock)
        {
            if (_departures.Count >= Kept && !_departures.ContainsKey(node.NodeId))
                _departures.Remove(_departures.MinBy(d => d.Value.LeftAtMs).Key);
            _departures[node.NodeId] = new Departure(node.Id, reason, Environment.TickCount64, node);
        }
    }

    public void Forget(Guid nodeId)
    {
        lock (_lock)
            _departures.Remove(nodeId);
    }

    /// <summary>Oldest first.</summary>
    public IReadOnlyList<Departure> Snapshot()
    {
        lock (_lock)
            return [.. _departures.Values.OrderBy(d => d.LeftAtMs)];
    }
}

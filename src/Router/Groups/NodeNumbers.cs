namespace KvnDb.Router.Groups;

/// <summary>
/// Stable display numbers of nodes (node id to number), one numbering for every group, so "node 3" names one
/// node in the whole cluster. Kept in the metadata with the next change any group makes.
/// </summary>
internal sealed class NodeNumbers(IReadOnlyDictionary<Guid, int> stored)
{
    private readonly Dictionary<Guid, int> _numbers = new(stored);

    public int NumberFor(Guid nodeId)
    {
        lock (_numbers)
        {
            if (!_numbers.TryGetValue(nodeId, out var number))
                _numbers[nodeId] = number = _numbers.Count == 0 ? 1 : _numbers.Values.Max() + 1;
            return number;
        }
    }

    public Dictionary<Guid, int> Snapshot()
    {
        lock (_numbers)
            return new Dictionary<Guid, int>(_numbers);
    }
}

using KvnDb.Node.Storage;

namespace KvnDb.Node;

/// <summary>
/// Who the node is and which history its data belongs to (DESIGN.md section 3), both sent in every hello.
/// <see cref="NodeId"/> is the node's stable identity: kept in <c>DIR/node-id</c> with the data, new after
/// <see cref="Reset"/>, and new at each process start for a node without a data folder (its data dies with
/// the process). <see cref="HistoryId"/> is set by the router when the node joins, kept in <c>DIR/history</c>.
/// Both files are replaced atomically and fsynced: a router trusts what a hello claims only as far as
/// these files are true after a crash.
/// </summary>
public sealed class NodeIdentity
{
    private readonly string? _nodeIdFile;
    private readonly string? _historyFile;

    public NodeIdentity(string? dataDirectory)
    {
        if (dataDirectory is null)
        {
            NodeId = Guid.NewGuid();
            return;
        }
        Directory.CreateDirectory(dataDirectory);
        _nodeIdFile = Path.Combine(dataDirectory, "node-id");
        _historyFile = Path.Combine(dataDirectory, "history");
        if (Guid.TryParse(DurableFile.ReadAllText(_nodeIdFile)?.Trim(), out var nodeId) && nodeId != Guid.Empty)
            NodeId = nodeId;
        else
            SetNodeId(Guid.NewGuid());
        if (Guid.TryParse(DurableFile.ReadAllText(_historyFile)?.Trim(), out var history))
            HistoryId = history;
    }

    public Guid NodeId { get; private set; }

    public Guid HistoryId { get; private set; }

    public void SetHistory(Guid historyId)
    {
        if (historyId == HistoryId)
            return;
        HistoryId = historyId;
        if (_historyFile is not null)
            DurableFile.WriteAllText(_historyFile, historyId.ToString());
    }

    /// <summary>The data was wiped (<c>--reset</c>): a new node as far as any router can tell, on no history.</summary>
    public void Reset()
    {
        SetHistory(Guid.Empty);
        SetNodeId(Guid.NewGuid());
    }

    private void SetNodeId(Guid nodeId)
    {
        NodeId = nodeId;
        if (_nodeIdFile is not null)
            DurableFile.WriteAllText(_nodeIdFile, nodeId.ToString());
    }
}

using KvnDb.Node.Storage;

namespace KvnDb.Node;

/// <summary>
/// Who the node is and which history its data belongs to (DESIGN.md section 3), both sent in every hello.
/// <see cref="NodeId"/> is the node's stable identity: kept in <c>DIR/node-id</c> with the data, new after
/// <see cref="Reset"/>, and new at each process start for a node without a data folder (its data dies with
/// the process). <see cref="HistoryId"/> is set by the router when the node joins, kept in <c>DIR/history</c>.
/// Both files are replaced atomically and fsynced: a router trusts what a hello claims only as far as
/// these files are true after a crash. A reset requested with <c>kvndb-node reset</c> (<see cref="ResetMarker"/>)
/// is applied here, once: a new node id and no history, the data kept until a donor's snapshot replaces it.
/// </summary>
public sealed class NodeIdentity
{
    private readonly string? _nodeIdFile;
    private readonly string? _historyFile;
    private readonly string? _termFile;
    private readonly ResetMarker? _reset;

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
        _termFile = Path.Combine(dataDirectory, "router-term");
        if (ulong.TryParse(DurableFile.ReadAllText(_termFile)?.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var term))
            RouterTerm = term;
        _reset = new ResetMarker(dataDirectory);
        if (!_reset.Exists)
            return;
        // Not yet applied (or a crash came between the new identity and the marker saying so): apply it now.
        if (_reset.AppliedNodeId != NodeId)
        {
            Reset();
            _reset.MarkApplied(NodeId);
            ResetAppliedNow = true;
        }
        IsResetPending = true;
    }

    public Guid NodeId { get; private set; }

    public Guid HistoryId { get; private set; }

    /// <summary>
    /// The highest router-group term this node has served (kept in <c>DIR/router-term</c>): a router leading a lower
    /// term is a deposed leader and is refused (fencing). 0: never linked to a group.
    /// </summary>
    public ulong RouterTerm { get; private set; }

    /// <summary>Records a higher term durably before the node serves the router that leads it.</summary>
    public void SetRouterTerm(ulong term)
    {
        if (term <= RouterTerm)
            return;
        RouterTerm = term;
        if (_termFile is not null)
            DurableFile.WriteAllText(_termFile, term.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The node was reset and has not completed a sync since: it waits for a donor and is never a source of truth.</summary>
    public bool IsResetPending { get; private set; }

    /// <summary>This process applied a reset request (it took the new node id at this start).</summary>
    public bool ResetAppliedNow { get; }

    /// <summary>Where the reset marker lives (for messages), or null without a data folder.</summary>
    public string? ResetMarkerLocation => _reset?.Location;

    /// <summary>A sync completed and is durable: a pending reset is done (its marker goes).</summary>
    public void ConfirmSynced()
    {
        if (!IsResetPending)
            return;
        IsResetPending = false;
        _reset?.Complete();
    }

    public void SetHistory(Guid historyId)
    {
        if (historyId == HistoryId)
            return;
        HistoryId = historyId;
        if (_historyFile is not null)
            DurableFile.WriteAllText(_historyFile, historyId.ToString());
    }

    /// <summary>A reset: a new node as far as any router can tell, on no history (its data is replaced by a full sync).</summary>
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

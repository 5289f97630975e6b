using KvnDb.Router.Replication;

namespace KvnDb.Router;

/// <summary>
/// What one read batch touched, flushed once at its end (one syscall per peer per batch, not per
/// frame). Owned by the loop that reads the batch (a client session or a node link); never shared.
/// </summary>
internal sealed class FlushSet(NodeTable nodes) : IFlushBatch
{
    private readonly HashSet<OutputChannel> _clients = [];
    private readonly List<NodeSender> _senders = [];
    private bool _logAppended;

    /// <summary>A write was appended to the log: every node sender sends it at the end of the batch.</summary>
    public void LogAppended() => _logAppended = true;

    public void Add(OutputChannel client) => _clients.Add(client);

    public void Add(NodeSender sender)
    {
        if (!_senders.Contains(sender))
            _senders.Add(sender);
    }

    public void FlushAll()
    {
        if (_logAppended)
        {
            _logAppended = false;
            foreach (var node in nodes.Connected)
                node.Sender.FlushBatch();
        }
        foreach (var sender in _senders)
            sender.FlushBatch();
        _senders.Clear();
        foreach (var client in _clients)
            client.Flush();
        _clients.Clear();
    }
}

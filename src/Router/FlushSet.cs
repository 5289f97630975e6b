using KvnDb.Router.Replication;

namespace KvnDb.Router;

/// <summary>
/// What one read batch touched, flushed once at its end (one syscall per peer per batch, not per
/// frame). Owned by the loop that reads the batch (a client session or a node link); never shared.
/// </summary>
/// <param name="queueClientFlushes">Client flushes are queued (<see cref="OutputChannel.FlushSoon"/>), not sent here: a node link under <c>--inline-io</c>.</param>
internal sealed class FlushSet(bool queueClientFlushes = false) : IFlushBatch
{
    private readonly HashSet<OutputChannel> _clients = [];
    private readonly List<NodeSender> _senders = [];
    // The groups whose log gained writes: one in nearly every batch, so a list with room for a few never grows.
    private readonly List<NodeTable> _appended = new(4);

    /// <summary>A write was appended to a group's log: every node sender of the group sends it at the end of the batch.</summary>
    public void LogAppended(NodeTable groupNodes)
    {
        if (!_appended.Contains(groupNodes))
            _appended.Add(groupNodes);
    }

    public void Add(OutputChannel client) => _clients.Add(client);

    public void Add(NodeSender sender)
    {
        if (!_senders.Contains(sender))
            _senders.Add(sender);
    }

    public void FlushAll()
    {
        // Appended groups first: their writes go out before the reads queued behind them are flushed.
        for (var i = 0; i < _appended.Count; i++)
            foreach (var node in _appended[i].Connected)
                node.Sender.FlushBatch();
        _appended.Clear();
        foreach (var sender in _senders)
            sender.FlushBatch();
        _senders.Clear();
        foreach (var client in _clients)
        {
            if (queueClientFlushes)
                client.FlushSoon();
            else
                client.Flush();
        }
        _clients.Clear();
    }
}

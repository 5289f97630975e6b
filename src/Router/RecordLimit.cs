using KvnDb.Router.Membership;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router;

/// <summary>
/// The largest record (key + value) the router accepts for writing: the smallest limit announced in
/// the hello of a connected node, or remembered (in the durable metadata) for an in-sync member that is
/// away, and never above what the router's own frame limit lets a Set carry. A write above it is refused
/// before it is sequenced, so every node stores it or none does. An away member still counts: a write it
/// could not store would otherwise be acknowledged without it and then replayed to it.
/// </summary>
internal sealed partial class RecordLimit
{
    private readonly Lock _lock = new();
    private readonly Dictionary<NodeLink, long> _connected = [];
    private readonly long _routerLimit;
    private readonly ILogger _logger;
    private readonly Dictionary<string, IReadOnlyList<InSyncMember>> _members = new(StringComparer.Ordinal);
    private long _current;
    private string _holder = RouterHolder;

    private const string RouterHolder = "the router's frame limit, --max-frame";

    public RecordLimit(long routerLimit, ILogger logger)
    {
        _routerLimit = routerLimit;
        _current = routerLimit;
        _logger = logger;
    }

    /// <summary>Read on every large write; changes only when a node connects or leaves, or the in-sync set changes.</summary>
    public long Current => Volatile.Read(ref _current);

    /// <summary>Who sets the limit now ("node 2", or the router's frame limit), for messages and info.</summary>
    public string Holder
    {
        get
        {
            lock (_lock)
                return _holder;
        }
    }

    /// <summary>A node passed its hello: its limit counts until its link is gone.</summary>
    public void NodeConnected(NodeLink node)
    {
        lock (_lock)
        {
            _connected[node] = node.Hello.MaxRecord;
            RecomputeLocked();
        }
    }

    public void NodeDisconnected(NodeLink node)
    {
        lock (_lock)
        {
            if (_connected.Remove(node))
                RecomputeLocked();
        }
    }

    /// <summary>The durable in-sync set changed (or was loaded): its members' remembered limits count, connected or not.</summary>
    public void MembersChanged(IReadOnlyList<InSyncMember> members, string group = KvnDb.Protocol.HelloRequest.DefaultGroup)
    {
        lock (_lock)
        {
            _members[group] = members;
            RecomputeLocked();
        }
    }

    private void RecomputeLocked()
    {
        var limit = _routerLimit;
        var holder = RouterHolder;
        foreach (var (node, max) in _connected)
        {
            if (max < limit)
                (limit, holder) = (max, $"node {node.Id}");
        }
        foreach (var member in _members.Values.SelectMany(m => m))
        {
            // 0: remembered by a router that did not record limits yet; the member counts again once it connects.
            if (member.MaxRecord > 0 && member.MaxRecord < limit)
                (limit, holder) = (member.MaxRecord, IsConnected(member) ? $"node {member.Number}" : $"node {member.Number}, an in-sync member that is away");
        }
        if (limit == _current && holder == _holder)
            return;
        var previous = _current;
        _holder = holder;
        Volatile.Write(ref _current, limit);
        if (limit != previous)
            LogChanged(limit, holder, previous);
    }

    private bool IsConnected(InSyncMember member)
    {
        foreach (var node in _connected.Keys)
        {
            if (node.NodeId == member.NodeId)
                return true;
        }
        return false;
    }

    [LoggerMessage(80, LogLevel.Information, "Record limit is now {Limit} bytes of key + value (set by {Holder}; was {Previous}): larger writes are refused")]
    private partial void LogChanged(long limit, string holder, long previous);
}

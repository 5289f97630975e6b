using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Resp;

/// <summary>
/// Pub/sub for the router's RESP connections: the router is the hub (messages are not stored or
/// replicated; subscribers connected to this router receive them, as Redis delivers to its own clients).
/// Channel and pattern names are kept as Latin-1 strings, one char per byte, so any bytes round-trip.
/// </summary>
internal sealed class PubSubHub
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, HashSet<RespSession>> _channels = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<RespSession>> _patterns = new(StringComparer.Ordinal);
    private readonly List<(RespSession Session, string? Pattern)> _receivers = [];

    public static string Name(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    public static byte[] Bytes(string name) => Encoding.Latin1.GetBytes(name);

    public void Subscribe(RespSession session, string channel, bool pattern)
    {
        lock (_lock)
        {
            var table = pattern ? _patterns : _channels;
            if (!table.TryGetValue(channel, out var sessions))
                table[channel] = sessions = [];
            sessions.Add(session);
        }
    }

    public void Unsubscribe(RespSession session, string channel, bool pattern)
    {
        lock (_lock)
        {
            var table = pattern ? _patterns : _channels;
            if (table.TryGetValue(channel, out var sessions) && sessions.Remove(session) && sessions.Count == 0)
                table.Remove(channel);
        }
    }

    /// <summary>Delivers to every subscriber of the channel and of every matching pattern; returns how many received it.</summary>
    public int Publish(ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        var name = Name(channel);
        List<(RespSession Session, string? Pattern)> receivers;
        lock (_lock)
        {
            _receivers.Clear();
            if (_channels.TryGetValue(name, out var direct))
            {
                foreach (var session in direct)
                    _receivers.Add((session, null));
            }
            foreach (var (pattern, sessions) in _patterns)
            {
                if (!GlobPattern.IsMatch(Bytes(pattern), channel))
                    continue;
                foreach (var session in sessions)
                    _receivers.Add((session, pattern));
            }
            receivers = [.. _receivers];
            _receivers.Clear();
        }
        foreach (var (session, pattern) in receivers)
            session.Push(pattern, channel, message);
        return receivers.Count;
    }

    /// <summary>PUBSUB CHANNELS [pattern]: channels with at least one subscriber.</summary>
    public List<string> Channels(ReadOnlySpan<byte> pattern)
    {
        var matched = new List<string>();
        lock (_lock)
        {
            foreach (var channel in _channels.Keys)
            {
                if (pattern.IsEmpty || GlobPattern.IsMatch(pattern, Bytes(channel)))
                    matched.Add(channel);
            }
        }
        return matched;
    }

    public int SubscriberCount(string channel)
    {
        lock (_lock)
            return _channels.TryGetValue(channel, out var sessions) ? sessions.Count : 0;
    }

    /// <summary>PUBSUB NUMPAT: distinct patterns subscribed to (as Redis 7 counts them).</summary>
    public int PatternCount
    {
        get
        {
            lock (_lock)
                return _patterns.Count;
        }
    }
}

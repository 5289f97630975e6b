namespace KvnDb.Resp;

/// <summary>
/// SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH and PUBSUB, router-local (<see cref="PubSubHub"/>).
/// Messages are push frames in RESP3 and three- or four-element arrays in RESP2, written between whole replies.
/// </summary>
internal sealed partial class RespSession
{
    private readonly HashSet<string> _channels = new(StringComparer.Ordinal);
    private readonly HashSet<string> _patterns = new(StringComparer.Ordinal);

    private int Subscriptions => _channels.Count + _patterns.Count;

    /// <summary>RESP2 connections with a subscription may only (un)subscribe, ping, reset and quit, as in Redis.</summary>
    private bool InSubscribedMode => !_resp3 && Subscriptions > 0;

    private void Subscribe(in RespRequest request, bool pattern)
    {
        var set = pattern ? _patterns : _channels;
        for (var i = 1; i < request.Count; i++)
        {
            var name = PubSubHub.Name(request[i]);
            if (set.Add(name))
                _server.PubSub.Subscribe(this, name, pattern);
            WriteSubscription(pattern ? "psubscribe"u8 : "subscribe"u8, request[i], Subscriptions);
        }
        SendNotifications();
    }

    private void Unsubscribe(in RespRequest request, bool pattern)
    {
        var set = pattern ? _patterns : _channels;
        var kind = pattern ? "punsubscribe"u8 : "unsubscribe"u8;
        if (request.Count == 1)
        {
            if (set.Count == 0)
                WriteSubscription(kind, default, Subscriptions, absent: true);
            foreach (var name in set.ToArray())
            {
                set.Remove(name);
                _server.PubSub.Unsubscribe(this, name, pattern);
                WriteSubscription(kind, PubSubHub.Bytes(name), Subscriptions);
            }
        }
        for (var i = 1; i < request.Count; i++)
        {
            var name = PubSubHub.Name(request[i]);
            if (set.Remove(name))
                _server.PubSub.Unsubscribe(this, name, pattern);
            WriteSubscription(kind, request[i], Subscriptions);
        }
        SendNotifications();
    }

    /// <summary>Subscription notifications: in RESP3 they are pushes, sent even under CLIENT REPLY OFF, as Redis sends them.</summary>
    private void SendNotifications()
    {
        if (!_resp3 || _queueing)
        {
            SendLocal();
            return;
        }
        var mode = _replyMode;
        _replyMode = ReplyMode.On;
        SendLocal();
        _replyMode = mode;
    }

    private void WriteSubscription(ReadOnlySpan<byte> kind, ReadOnlySpan<byte> channel, int count, bool absent = false)
    {
        WritePushHeader(_local, 3);
        RespWriter.WriteBulk(_local, kind);
        if (absent)
            RespWriter.WriteNull(_local, _resp3);
        else
            RespWriter.WriteBulk(_local, channel);
        RespWriter.WriteInteger(_local, count);
    }

    private void WritePushHeader(System.Buffers.IBufferWriter<byte> output, int count)
    {
        if (_resp3)
            RespWriter.WritePushHeader(output, count);
        else
            RespWriter.WriteArrayHeader(output, count);
    }

    private void Publish(in RespRequest request) => ReplyInteger(_server.PubSub.Publish(request[1], request[2]));

    /// <summary>A published message for this connection (from the publisher's thread): written whole, then flushed.</summary>
    public void Push(string? pattern, ReadOnlySpan<byte> channel, ReadOnlySpan<byte> message)
    {
        var frame = new System.Buffers.ArrayBufferWriter<byte>(64 + channel.Length + message.Length);
        var resp3 = _resp3;
        if (resp3)
            RespWriter.WritePushHeader(frame, pattern is null ? 3 : 4);
        else
            RespWriter.WriteArrayHeader(frame, pattern is null ? 3 : 4);
        RespWriter.WriteBulk(frame, pattern is null ? "message"u8 : "pmessage"u8);
        if (pattern is not null)
            RespWriter.WriteBulk(frame, PubSubHub.Bytes(pattern));
        RespWriter.WriteBulk(frame, channel);
        RespWriter.WriteBulk(frame, message);
        Output.Write(frame.WrittenMemory, CopyBytes);
        Output.Flush();
    }

    /// <summary>PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT.</summary>
    private void PubSubCommand(in RespRequest request)
    {
        var sub = request[1];
        if (RespCommandTable.Is(sub, "CHANNELS"u8) && request.Count <= 3)
        {
            var channels = _server.PubSub.Channels(request.Count == 3 ? request[2] : default);
            RespWriter.WriteArrayHeader(_local, channels.Count);
            foreach (var channel in channels)
                RespWriter.WriteBulk(_local, PubSubHub.Bytes(channel));
            SendLocal();
        }
        else if (RespCommandTable.Is(sub, "NUMSUB"u8))
        {
            RespWriter.WriteMapHeader(_local, request.Count - 2, _resp3);
            for (var i = 2; i < request.Count; i++)
            {
                RespWriter.WriteBulk(_local, request[i]);
                RespWriter.WriteInteger(_local, _server.PubSub.SubscriberCount(PubSubHub.Name(request[i])));
            }
            SendLocal();
        }
        else if (RespCommandTable.Is(sub, "NUMPAT"u8) && request.Count == 2)
        {
            ReplyInteger(_server.PubSub.PatternCount);
        }
        else
        {
            ReplyError($"ERR unknown subcommand or wrong number of arguments for 'PUBSUB|{Printable(sub)}'. Try PUBSUB HELP.");
        }
    }

    /// <summary>The connection closed: it leaves every channel and pattern.</summary>
    private void LeaveAllChannels()
    {
        foreach (var name in _channels)
            _server.PubSub.Unsubscribe(this, name, pattern: false);
        foreach (var name in _patterns)
            _server.PubSub.Unsubscribe(this, name, pattern: true);
        _channels.Clear();
        _patterns.Clear();
    }
}

using System.Buffers.Text;
using System.Text;

namespace KvnDb.Resp;

/// <summary>The connection family: PING, ECHO, HELLO, AUTH, QUIT, RESET and CLIENT, answered by the router itself.</summary>
internal sealed partial class RespSession
{
    private void Ping(in RespRequest request)
    {
        if (request.Count > 2)
        {
            ReplyError("ERR wrong number of arguments for 'ping' command");
        }
        else if (InSubscribedMode)
        {
            // A subscribed RESP2 connection reads only arrays: Redis answers ["pong", message].
            RespWriter.WriteArrayHeader(_local, 2);
            RespWriter.WriteBulk(_local, "pong"u8);
            RespWriter.WriteBulk(_local, request.Count == 2 ? request[1] : default);
            SendLocal();
        }
        else if (request.Count == 2)
            ReplyBulk(request[1]);
        else
            ReplySimple("PONG"u8);
    }

    /// <summary>RESET: out of MULTI, no watches, no subscriptions, database 0, RESP2, replies on, no name.</summary>
    private void Reset()
    {
        ResetMulti();
        Unwatch();
        LeaveAllChannels();
        _database = 0;
        _resp3 = false;
        _name = null;
        _replyMode = ReplyMode.On;
        ReplySimple("RESET"u8);
    }

    private BatchOutcome Quit()
    {
        ReplyOk();
        return BatchOutcome.Close;
    }

    private BatchOutcome Hello(in RespRequest request)
    {
        var protocol = _resp3 ? 3 : 2;
        if (request.Count > 1 && (!Utf8Parser.TryParse(request[1], out protocol, out var used) || used != request[1].Length || protocol is < 2 or > 3))
        {
            ReplyError("NOPROTO unsupported protocol version");
            return BatchOutcome.Continue;
        }
        string? name = null;
        var authenticates = false;
        var passwordOk = false;
        for (var i = 2; i < request.Count; i++)
        {
            if (RespCommandTable.Is(request[i], "AUTH"u8) && i + 2 < request.Count)
            {
                authenticates = true;
                passwordOk = CheckPassword(request[i + 1], request[i + 2]);
                i += 2;
            }
            else if (RespCommandTable.Is(request[i], "SETNAME"u8) && i + 1 < request.Count)
            {
                name = Encoding.UTF8.GetString(request[++i]);
            }
            else
            {
                ReplyError($"ERR Syntax error in HELLO option '{Printable(request[i])}'");
                return BatchOutcome.Continue;
            }
        }
        if (authenticates && !passwordOk)
            return FailAuth();
        if (!_authenticated && !authenticates)
        {
            ReplyError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time");
            return BatchOutcome.Continue;
        }
        if (authenticates)
            _authenticated = true;
        if (name is not null)
            _name = name;
        _resp3 = protocol == 3;
        RespWriter.WriteMapHeader(_local, 7, _resp3);
        RespWriter.WriteBulkString(_local, "server");
        RespWriter.WriteBulkString(_local, "redis");
        RespWriter.WriteBulkString(_local, "version");
        RespWriter.WriteBulkString(_local, RespInfoReport.RedisVersion);
        RespWriter.WriteBulkString(_local, "proto");
        RespWriter.WriteInteger(_local, protocol);
        RespWriter.WriteBulkString(_local, "id");
        RespWriter.WriteInteger(_local, Id);
        RespWriter.WriteBulkString(_local, "mode");
        RespWriter.WriteBulkString(_local, "standalone");
        RespWriter.WriteBulkString(_local, "role");
        RespWriter.WriteBulkString(_local, "master");
        RespWriter.WriteBulkString(_local, "modules");
        RespWriter.WriteArrayHeader(_local, 0);
        SendLocal();
        return BatchOutcome.Continue;
    }

    private BatchOutcome Auth(in RespRequest request)
    {
        if (request.Count > 3)
        {
            ReplyError("ERR syntax error");
            return BatchOutcome.Continue;
        }
        if (!_server.Password.IsRequired)
        {
            // The default user has no password (Redis's "nopass"): AUTH default <anything> succeeds, a bare AUTH is a mistake.
            if (request.Count == 3 && request[1].SequenceEqual("default"u8))
            {
                ReplyOk();
                return BatchOutcome.Continue;
            }
            if (request.Count == 3)
                return FailAuth();
            ReplyError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?");
            return BatchOutcome.Continue;
        }
        var user = request.Count == 3 ? request[1] : "default"u8;
        if (!CheckPassword(user, request[request.Count - 1]))
            return FailAuth();
        _authenticated = true;
        ReplyOk();
        return BatchOutcome.Continue;
    }

    /// <summary>The router has one user, "default", whose password is the client password.</summary>
    private bool CheckPassword(ReadOnlySpan<byte> user, ReadOnlySpan<byte> password)
    {
        if (!_server.Password.IsRequired)
            return user.SequenceEqual("default"u8);
        var passwordOk = _server.Password.Verify(password);
        return passwordOk && user.SequenceEqual("default"u8);
    }

    /// <summary>Takes the AUTH's place in the reply order; the loop answers it after the failure delay.</summary>
    private BatchOutcome FailAuth()
    {
        _core.Stats.AuthFailure();
        RespLog.AuthFailed(_logger, RemoteAddress);
        lock (_replyLock)
            _failedAuthSlot = BeginSlot(ReplyKind.Local).Number;
        return BatchOutcome.AuthDelay;
    }

    private void Client(in RespRequest request)
    {
        var sub = request[1];
        if (RespCommandTable.Is(sub, "ID"u8) && request.Count == 2)
        {
            ReplyInteger(Id);
        }
        else if (RespCommandTable.Is(sub, "GETNAME"u8) && request.Count == 2)
        {
            if (_name is null)
                RespWriter.WriteNull(_local, _resp3);
            else
                RespWriter.WriteBulkString(_local, _name);
            SendLocal();
        }
        else if (RespCommandTable.Is(sub, "SETNAME"u8) && request.Count == 3)
        {
            foreach (var b in request[2])
            {
                if (b is < (byte)'!' or > (byte)'~')
                {
                    ReplyError("ERR Client names cannot contain spaces, newlines or special characters.");
                    return;
                }
            }
            _name = request[2].IsEmpty ? null : Encoding.UTF8.GetString(request[2]);
            ReplyOk();
        }
        else if (RespCommandTable.Is(sub, "SETINFO"u8) && request.Count == 4)
        {
            ReplyOk(); // library name and version: accepted and not kept
        }
        else if (RespCommandTable.Is(sub, "INFO"u8) && request.Count == 2)
        {
            RespWriter.WriteBulkString(_local, Describe() + "\n");
            SendLocal();
        }
        else if (RespCommandTable.Is(sub, "LIST"u8))
        {
            var text = new StringBuilder();
            foreach (var session in _server.Sessions)
                text.Append(session.Describe()).Append('\n');
            RespWriter.WriteBulkString(_local, text.ToString());
            SendLocal();
        }
        else if (RespCommandTable.Is(sub, "KILL"u8) && request.Count >= 3)
        {
            ClientKill(request);
        }
        else if (RespCommandTable.Is(sub, "NO-EVICT"u8) && request.Count == 3 && (RespCommandTable.Is(request[2], "ON"u8) || RespCommandTable.Is(request[2], "OFF"u8)))
        {
            ReplyOk(); // the router evicts no client for memory
        }
        else if (RespCommandTable.Is(sub, "REPLY"u8) && request.Count == 3)
        {
            if (RespCommandTable.Is(request[2], "ON"u8))
            {
                _replyMode = ReplyMode.On;
                ReplyOk();
            }
            else if (RespCommandTable.Is(request[2], "OFF"u8))
                _replyMode = ReplyMode.Off;
            else if (RespCommandTable.Is(request[2], "SKIP"u8))
                _replyMode = ReplyMode.SkipNext;
            else
                ReplyError("ERR syntax error");
        }
        else
        {
            ReplyError($"ERR unknown subcommand or wrong number of arguments for 'CLIENT|{Printable(sub)}'. Try CLIENT HELP.");
        }
    }

    /// <summary>CLIENT KILL addr, or CLIENT KILL [ID id] [ADDR addr] [LADDR addr] [SKIPME yes|no].</summary>
    private void ClientKill(in RespRequest request)
    {
        if (request.Count == 3)
        {
            var address = Encoding.UTF8.GetString(request[2]);
            var target = _server.Sessions.FirstOrDefault(s => s.RemoteAddress == address);
            if (target is null)
            {
                ReplyError("ERR No such client");
                return;
            }
            ReplyOk();
            target.Kill();
            return;
        }
        long? id = null;
        string? addr = null;
        var skipMe = true;
        for (var i = 2; i < request.Count; i += 2)
        {
            if (i + 1 >= request.Count)
            {
                ReplyError("ERR syntax error");
                return;
            }
            var value = Encoding.UTF8.GetString(request[i + 1]);
            if (RespCommandTable.Is(request[i], "ID"u8) && long.TryParse(value, System.Globalization.CultureInfo.InvariantCulture, out var parsed))
                id = parsed;
            else if (RespCommandTable.Is(request[i], "ADDR"u8))
                addr = value;
            else if (RespCommandTable.Is(request[i], "SKIPME"u8) && value is "yes" or "no")
                skipMe = value == "yes";
            else if (RespCommandTable.Is(request[i], "ID"u8))
            {
                ReplyError("ERR client-id should be greater than 0");
                return;
            }
            else
            {
                ReplyError("ERR syntax error");
                return;
            }
        }
        var killed = 0;
        foreach (var session in _server.Sessions)
        {
            if ((id is { } wanted && session.Id != wanted) || (addr is not null && session.RemoteAddress != addr) || (skipMe && session == this))
                continue;
            session.Kill();
            killed++;
        }
        ReplyInteger(killed);
    }

    /// <summary>One CLIENT LIST line, in Redis's field order for the fields the router knows.</summary>
    public string Describe()
    {
        var now = Environment.TickCount64;
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"id={Id} addr={RemoteAddress} laddr=127.0.0.1:{LocalPort} fd=0 name={_name} age={(now - _connectedAt) / 1000} idle={(now - LastActivityMs) / 1000} flags={(_multi ? "x" : Subscriptions > 0 ? "P" : "N")} db={_database} sub={_channels.Count} psub={_patterns.Count} ssub=0 multi={(_multi ? _queue.Count : -1)} qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=client user=default redir=-1 resp={(_resp3 ? 3 : 2)}");
    }

    /// <summary>CLIENT KILL: close this connection (from any connection's thread).</summary>
    public void Kill() => _abort();
}

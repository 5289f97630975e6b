using System.Buffers.Text;
using System.Text;

namespace KvnDb.Resp;

/// <summary>The connection family: PING, ECHO, HELLO, AUTH, SELECT, QUIT and CLIENT, answered by the router itself.</summary>
internal sealed partial class RespSession
{
    private void Ping(in RespRequest request)
    {
        if (request.Count > 2)
            ReplyError("ERR wrong number of arguments for 'ping' command");
        else if (request.Count == 2)
            ReplyBulk(request[1]);
        else
            ReplySimple("PONG"u8);
    }

    private void Echo(in RespRequest request)
    {
        RespWriter.WriteBulk(_local, request[1]);
        SendLocal();
    }

    private void Select(in RespRequest request)
    {
        if (request[1].SequenceEqual("0"u8))
            ReplyOk();
        else
            ReplyError("ERR DB index is out of range");
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
            if (request[2].IndexOfAny(" \r\n"u8) >= 0)
            {
                ReplyError("ERR Client names cannot contain spaces, newlines or special characters.");
                return;
            }
            _name = request[2].IsEmpty ? null : Encoding.UTF8.GetString(request[2]);
            ReplyOk();
        }
        else if (RespCommandTable.Is(sub, "SETINFO"u8) && request.Count == 4)
        {
            ReplyOk(); // library name and version: accepted and not kept
        }
        else
        {
            ReplyError($"ERR unknown subcommand or wrong number of arguments for 'CLIENT|{Printable(sub)}'. Try CLIENT HELP.");
        }
    }
}

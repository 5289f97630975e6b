using System.Buffers;
using System.Buffers.Text;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Resp;

internal sealed partial class RespSession
{
    private const string ExpiryNotSupported = "ERR expiry (EX, PX, EXAT, PXAT, SETEX, PSETEX) is not supported by KvnDb: keys do not expire";

    private static readonly Action<IBufferWriter<byte>, string> RenderError = static (w, message) => RespWriter.WriteError(w, message);

    /// <summary>Handles one command; returns <see cref="BatchOutcome.Continue"/> unless the loop must pause or close.</summary>
    private BatchOutcome Execute(in RespRequest request)
    {
        _server.CommandProcessed();
        var command = RespCommandTable.Lookup(request[0]);
        if (command == RespCommand.Unknown)
        {
            UnknownCommand(request);
            return BatchOutcome.Continue;
        }
        if (!_authenticated && command is not (RespCommand.Auth or RespCommand.Hello or RespCommand.Quit))
        {
            ReplyError("NOAUTH Authentication required.");
            return BatchOutcome.Continue;
        }
        var info = RespCommandTable.Info(command);
        if (!info.AcceptsArity(request.Count))
        {
            ReplyError($"ERR wrong number of arguments for '{info.Name}' command");
            return BatchOutcome.Continue;
        }
        switch (command)
        {
            case RespCommand.Ping:
                Ping(request);
                break;
            case RespCommand.Echo:
                RespWriter.WriteBulk(_local, request[1]);
                SendLocal();
                break;
            case RespCommand.Hello:
                return Hello(request);
            case RespCommand.Auth:
                return Auth(request);
            case RespCommand.Select:
                if (request[1].SequenceEqual("0"u8))
                    ReplyOk();
                else
                    ReplyError("ERR DB index is out of range");
                break;
            case RespCommand.Quit:
                ReplyOk();
                return BatchOutcome.Close;
            case RespCommand.Get:
                Get(request);
                break;
            case RespCommand.Set:
                Set(request);
                break;
            case RespCommand.SetNx:
                SetNx(request);
                break;
            case RespCommand.SetEx:
                ReplyError(ExpiryNotSupported);
                break;
            case RespCommand.Del or RespCommand.Unlink:
                Counted(request, ReplyKind.Delete, Opcode.Delete, write: true);
                break;
            case RespCommand.Exists:
                Counted(request, ReplyKind.Exists, Opcode.Exists, write: false);
                break;
            case RespCommand.MGet:
                MultiGet(request);
                break;
            case RespCommand.MSet:
                MultiSet(request);
                break;
            case RespCommand.Keys:
                Keys(request);
                break;
            case RespCommand.Scan:
                Scan(request);
                break;
            case RespCommand.DbSize:
                DbSize();
                break;
            case RespCommand.Info:
                Info(request);
                break;
            case RespCommand.Command:
                Command(request);
                break;
            case RespCommand.Config:
                Config(request);
                break;
            case RespCommand.Client:
                Client(request);
                break;
        }
        return BatchOutcome.Continue;
    }

    private void Ping(in RespRequest request)
    {
        if (request.Count > 2)
            ReplyError("ERR wrong number of arguments for 'ping' command");
        else if (request.Count == 2)
            ReplyBulk(request[1]);
        else
            ReplySimple("PONG"u8);
    }

    // ---- connection ----

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

    private void Config(in RespRequest request)
    {
        if (RespCommandTable.Is(request[1], "GET"u8) && request.Count >= 3)
        {
            // Nothing is configurable through RESP: every pattern matches nothing.
            RespWriter.WriteMapHeader(_local, 0, _resp3);
            SendLocal();
        }
        else
        {
            ReplyError($"ERR unknown subcommand or wrong number of arguments for 'CONFIG|{Printable(request[1])}'. Only CONFIG GET is supported.");
        }
    }

    private void UnknownCommand(in RespRequest request)
    {
        var text = new StringBuilder("ERR unknown command '").Append(Printable(request[0])).Append("', with args beginning with: ");
        for (var i = 1; i < Math.Min(request.Count, 8); i++)
            text.Append('\'').Append(Printable(request[i])).Append("' ");
        ReplyError(text.ToString());
    }

    /// <summary>An argument quoted in an error: at most 128 characters, control characters replaced.</summary>
    private static string Printable(ReadOnlySpan<byte> argument)
    {
        var text = Encoding.UTF8.GetString(argument[..Math.Min(argument.Length, 128)]);
        return string.Create(text.Length, text, static (span, s) =>
        {
            for (var i = 0; i < s.Length; i++)
                span[i] = char.IsControl(s[i]) ? '?' : s[i];
        });
    }

    // ---- local replies: rendered into _local, then placed in order ----

    private void SendLocal()
    {
        lock (_replyLock)
            Deliver(BeginSlot(ReplyKind.Local), _local.WrittenMemory, CopyBytes);
        _local.ResetWrittenCount();
    }

    private void ReplyOk()
    {
        RespWriter.WriteOk(_local);
        SendLocal();
    }

    private void ReplySimple(ReadOnlySpan<byte> text)
    {
        RespWriter.WriteSimple(_local, text);
        SendLocal();
    }

    private void ReplyError(string message)
    {
        RespWriter.WriteError(_local, message);
        SendLocal();
    }

    private void ReplyInteger(long value)
    {
        RespWriter.WriteInteger(_local, value);
        SendLocal();
    }

    private void ReplyBulk(ReadOnlySpan<byte> value)
    {
        RespWriter.WriteBulk(_local, value);
        SendLocal();
    }
}

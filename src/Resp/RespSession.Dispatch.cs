using System.Buffers;
using System.Text;

namespace KvnDb.Resp;

/// <summary>
/// Dispatch: one command to the handler of its family (<c>RespSession.Connection.cs</c>, <c>.Strings.cs</c>,
/// <c>.Counters.cs</c>, <c>.Expiry.cs</c>, <c>.Keys.cs</c>, <c>.Transactions.cs</c>, <c>.PubSub.cs</c>,
/// <c>.Server.cs</c>, as Garnet groups its handlers), the checks every family shares, and local replies
/// (rendered into <c>_local</c>, then placed in order, or kept for EXEC while a MULTI queues).
/// </summary>
internal sealed partial class RespSession
{
    private static readonly Action<IBufferWriter<byte>, string> RenderError = static (w, message) => RespWriter.WriteError(w, message);

    /// <summary>Handles one command; returns <see cref="BatchOutcome.Continue"/> unless the loop must pause or close.</summary>
    private BatchOutcome Execute(in RespRequest request)
    {
        _server.CommandProcessed();
        var info = RespCommandTable.Find(request[0]);
        if (info is null)
        {
            UnknownCommand(request);
            return BatchOutcome.Continue;
        }
        var command = info.Command;
        if (!_authenticated && command is not (RespCommand.Auth or RespCommand.Hello or RespCommand.Quit))
        {
            ReplyError("NOAUTH Authentication required.");
            return BatchOutcome.Continue;
        }
        _server.Called(command, rejected: !info.AcceptsArity(request.Count));
        if (!info.AcceptsArity(request.Count))
        {
            if (_multi)
                _multiDirty = true;
            ReplyError($"ERR wrong number of arguments for '{info.Name}' command");
            return BatchOutcome.Continue;
        }
        if (InSubscribedMode && !info.AllowedWhenSubscribed)
        {
            ReplyError($"ERR Can't execute '{info.Name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context");
            return BatchOutcome.Continue;
        }
        if (_multi && command is not (RespCommand.Exec or RespCommand.Discard or RespCommand.Multi or RespCommand.Watch or RespCommand.Quit or RespCommand.Reset))
            return Queue(command, request);
        return Dispatch(command, request);
    }

    private BatchOutcome Dispatch(RespCommand command, in RespRequest request)
    {
        switch (command)
        {
            // connection
            case RespCommand.Ping:
                Ping(request);
                break;
            case RespCommand.Echo:
                ReplyBulk(request[1]);
                break;
            case RespCommand.Hello:
                return Hello(request);
            case RespCommand.Auth:
                return Auth(request);
            case RespCommand.Select:
                Select(request);
                break;
            case RespCommand.Quit:
                return Quit();
            case RespCommand.Reset:
                Reset();
                break;
            case RespCommand.Client:
                Client(request);
                break;
            // strings
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
                SetEx(request, milliseconds: false);
                break;
            case RespCommand.PSetEx:
                SetEx(request, milliseconds: true);
                break;
            case RespCommand.GetSet:
                GetSet(request);
                break;
            case RespCommand.GetDel:
                GetDel(request);
                break;
            case RespCommand.GetEx:
                GetEx(request);
                break;
            case RespCommand.MGet:
                MultiGet(request);
                break;
            case RespCommand.MSet:
                MultiSet(request);
                break;
            case RespCommand.MSetNx:
                MultiSetNx(request);
                break;
            case RespCommand.Append:
                Append(request);
                break;
            case RespCommand.Strlen:
                ReadAbout(request[1], ReplyKind.Strlen);
                break;
            case RespCommand.GetRange:
                GetRange(request);
                break;
            case RespCommand.SetRange:
                SetRange(request);
                break;
            case RespCommand.Lcs:
                Lcs(request);
                break;
            // counters
            case RespCommand.Incr:
                Increment(request, 1, withAmount: false);
                break;
            case RespCommand.Decr:
                Increment(request, -1, withAmount: false);
                break;
            case RespCommand.IncrBy:
                Increment(request, 1, withAmount: true);
                break;
            case RespCommand.DecrBy:
                Increment(request, -1, withAmount: true);
                break;
            case RespCommand.IncrByFloat:
                IncrementFloat(request);
                break;
            // expiry
            case RespCommand.Expire:
                Expire(request, milliseconds: false, absolute: false, "expire");
                break;
            case RespCommand.PExpire:
                Expire(request, milliseconds: true, absolute: false, "pexpire");
                break;
            case RespCommand.ExpireAt:
                Expire(request, milliseconds: false, absolute: true, "expireat");
                break;
            case RespCommand.PExpireAt:
                Expire(request, milliseconds: true, absolute: true, "pexpireat");
                break;
            case RespCommand.Ttl:
                TimeToLive(request, ReplyRenderer.TtlSeconds);
                break;
            case RespCommand.PTtl:
                TimeToLive(request, ReplyRenderer.TtlMilliseconds);
                break;
            case RespCommand.ExpireTime:
                TimeToLive(request, ReplyRenderer.ExpireTimeSeconds);
                break;
            case RespCommand.PExpireTime:
                TimeToLive(request, ReplyRenderer.ExpireTimeMilliseconds);
                break;
            case RespCommand.Persist:
                Persist(request);
                break;
            // keyspace
            case RespCommand.Del or RespCommand.Unlink:
                Counted(request, ReplyKind.Delete, KvnDb.Protocol.Opcode.Delete);
                break;
            case RespCommand.Exists or RespCommand.Touch:
                Counted(request, ReplyKind.Exists, KvnDb.Protocol.Opcode.Exists);
                break;
            case RespCommand.Type:
                ReadAbout(request[1], ReplyKind.Type, KvnDb.Protocol.Opcode.Exists);
                break;
            case RespCommand.Rename:
                Rename(request, onlyIfAbsent: false);
                break;
            case RespCommand.RenameNx:
                Rename(request, onlyIfAbsent: true);
                break;
            case RespCommand.Copy:
                Copy(request);
                break;
            case RespCommand.Move:
                Move(request);
                break;
            case RespCommand.RandomKey:
                RandomKey();
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
            case RespCommand.FlushDb:
                Flush(request, all: false);
                break;
            case RespCommand.FlushAll:
                Flush(request, all: true);
                break;
            case RespCommand.Object:
                Object(request);
                break;
            case RespCommand.SwapDb:
                ReplyError("ERR SWAPDB is not supported by KvnDb (databases are namespaced keys on every node)");
                break;
            // transactions
            case RespCommand.Multi:
                Multi();
                break;
            case RespCommand.Exec:
                return Exec();
            case RespCommand.Discard:
                Discard();
                break;
            case RespCommand.Watch:
                Watch(request);
                break;
            case RespCommand.Unwatch:
                Unwatch();
                ReplyOk();
                break;
            // pub/sub
            case RespCommand.Subscribe:
                Subscribe(request, pattern: false);
                break;
            case RespCommand.PSubscribe:
                Subscribe(request, pattern: true);
                break;
            case RespCommand.Unsubscribe:
                Unsubscribe(request, pattern: false);
                break;
            case RespCommand.PUnsubscribe:
                Unsubscribe(request, pattern: true);
                break;
            case RespCommand.Publish:
                Publish(request);
                break;
            case RespCommand.PubSub:
                PubSubCommand(request);
                break;
            // server
            case RespCommand.Info:
                Info(request);
                break;
            case RespCommand.Command:
                Command(request);
                break;
            case RespCommand.Config:
                Config(request);
                break;
            case RespCommand.Function or RespCommand.Script:
                Scripting(request, command == RespCommand.Function);
                break;
            case RespCommand.Time:
                Time();
                break;
            case RespCommand.Save:
                ReplyError("ERR SAVE, BGSAVE and SHUTDOWN are not supported by KvnDb: nodes checkpoint on their own (--checkpoint-interval)");
                break;
            case RespCommand.GetBit:
                GetBit(request);
                break;
            case RespCommand.LastSave:
                ReplyInteger(_server.StartedAt.ToUnixTimeSeconds());
                break;
        }
        return BatchOutcome.Continue;
    }

    /// <summary>The longest key a command may name in the selected database (its namespace prefix is part of the stored key).</summary>
    private int MaxKeyLength => _core.Options.MaxKeySize - (_database == 0 ? 0 : KvnDb.Protocol.DatabaseKeys.PrefixSize);

    /// <summary>Checks a key's size the way the native protocol does (values may be as large as the frame limit allows).</summary>
    private bool KeyFits(ReadOnlySpan<byte> key)
    {
        if (key.Length <= MaxKeyLength)
            return true;
        ReplyError($"ERR key is above the limit of {MaxKeyLength} bytes");
        return false;
    }

    private void UnknownCommand(in RespRequest request)
    {
        if (_multi)
            _multiDirty = true;
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

    /// <summary>Places <c>_local</c> as the next reply; while a MULTI queues a command, keeps it as that command's reply for EXEC.</summary>
    private void SendLocal()
    {
        if (_queueing)
        {
            _queue.Add(new QueuedCommand(ReplyKind.Local, _resp3) { Local = _local.WrittenSpan.ToArray() });
            _local.ResetWrittenCount();
            return;
        }
        if (_local.WrittenCount > 0 && _local.WrittenSpan[0] == (byte)'-')
            _server.ErrorReplied();
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

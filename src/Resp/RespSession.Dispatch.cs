using System.Buffers;
using System.Text;

namespace KvnDb.Resp;

/// <summary>
/// Dispatch: one command to the handler of its family (<c>RespSession.Connection.cs</c>,
/// <c>.Strings.cs</c>, <c>.Keys.cs</c>, <c>.Server.cs</c>, as Garnet groups its handlers), the checks
/// every family shares, and local replies (rendered into <c>_local</c>, then placed in order).
/// </summary>
internal sealed partial class RespSession
{
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
                Echo(request);
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
                SetEx();
                break;
            case RespCommand.Del or RespCommand.Unlink:
                Delete(request);
                break;
            case RespCommand.Exists:
                Exists(request);
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

    /// <summary>Checks key sizes the way the native protocol does; a key too large fails the command alone.</summary>
    private bool KeysFit(in RespRequest request, int first, int step)
    {
        var max = _core.Options.MaxKeySize;
        for (var i = first; i < request.Count; i += step)
        {
            if (request[i].Length > max)
            {
                ReplyError($"ERR key is above the limit of {max} bytes");
                return false;
            }
        }
        return true;
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

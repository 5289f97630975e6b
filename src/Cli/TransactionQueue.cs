using KvnDb.Client;
using KvnDb.Protocol;

namespace KvnDb.Cli;

/// <summary>
/// <c>multi</c> ... <c>exec</c> at the prompt: writes are queued (<c>QUEUED</c>) and sent as one
/// transaction, applied atomically under one sequence on every node; <c>require KEY VERSION</c> adds a
/// guard, and if any guard fails nothing changes anywhere (exec prints <c>(nil)</c>, as Redis after a WATCH).
/// </summary>
internal sealed class TransactionQueue
{
    private readonly TransactionBuilder _builder = new();
    private readonly List<string> _kinds = [];

    /// <summary>Queues a write; an error reply for a command a transaction cannot hold.</summary>
    public ConsoleReply Add(CommandSpec command, byte[][] args)
    {
        switch (command.Name)
        {
            case "require":
                if (!ulong.TryParse(Commands.Text(args[1]), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var version))
                    return new ConsoleReply.Error("VERSION must be a number (see getv)");
                _builder.RequireVersion(args[0], version);
                return new ConsoleReply.Status("OK");
            case "set":
                if (!SetArguments.TryParse(args, out var set, out var problem))
                    return new ConsoleReply.Error(problem!);
                if (set.IsPlain)
                    _builder.Set(args[0], args[1]);
                else
                    _builder.Set(args[0], args[1], set.When, set.Expiry, set.ReturnOldValue);
                break;
            case "setnx":
                _builder.Set(args[0], args[1], When.NotExists);
                break;
            case "del" when args.Length == 1:
                _builder.Delete(args[0]);
                break;
            case "getdel":
                _builder.GetDelete(args[0]);
                break;
            case "incr" or "incrby" or "decr" or "decrby":
                var by = args.Length == 2 ? Commands.Integer(args[1]) : 1;
                if (by is null)
                    return new ConsoleReply.Error("BY must be an integer");
                _builder.Increment(args[0], command.Name is "decr" or "decrby" ? -by.Value : by.Value);
                break;
            case "incrbyfloat" when Commands.Double(args[1]) is { } delta:
                _builder.IncrementFloat(args[0], delta);
                break;
            case "append":
                _builder.Append(args[0], args[1]);
                break;
            case "setrange" when Commands.Integer(args[1]) is { } offset and >= 0:
                _builder.SetRange(args[0], offset, args[2]);
                break;
            case "expire" or "pexpire" when Commands.Duration(args[1], command.Name == "expire" ? 1000 : 1) is { } ttl:
                _builder.Expire(args[0], ttl);
                break;
            case "persist":
                _builder.Persist(args[0]);
                break;
            default:
                return new ConsoleReply.Error($"'{command.Name}' cannot be queued (writes of one key each, and require; exec or discard to leave multi)");
        }
        _kinds.Add(command.Name);
        return new ConsoleReply.Status("QUEUED");
    }

    public async Task<ConsoleReply> ExecuteAsync(KvnDbClient client, CancellationToken cancellationToken)
    {
        if (_kinds.Count == 0)
            return new ConsoleReply.Multi([]);
        var result = await client.TransactionAsync(_builder, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!result.Committed)
            return ConsoleReply.NoValue;
        return new ConsoleReply.Multi([.. result.Results.Select((r, i) => ReplyOf(_kinds[i], r))]);
    }

    private static ConsoleReply ReplyOf(string kind, OperationResult result) => kind switch
    {
        "set" or "setnx" when result.Value is not null => new ConsoleReply.Bulk(result.Value),
        "set" => result.Status == StatusCode.Ok ? ConsoleReply.Ok : ConsoleReply.NoValue,
        "setnx" or "del" or "expire" or "pexpire" or "persist" => ConsoleReply.Of(result.Status == StatusCode.Ok),
        "getdel" => ConsoleReply.Of(result.Value),
        "incrbyfloat" => ConsoleReply.Of(result.Value),
        _ => new ConsoleReply.Integer(result.Number),
    };
}

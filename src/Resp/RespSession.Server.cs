using System.Buffers;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.Resp;

/// <summary>The server family: INFO, COMMAND, CONFIG, FUNCTION, SCRIPT and TIME.</summary>
internal sealed partial class RespSession
{
    /// <summary>The RESP port, for INFO (set by the handler).</summary>
    public int LocalPort { get; init; }

    /// <summary>The CONFIG GET parameters clients and tools read, with the values that describe the router.</summary>
    private static readonly (string Name, Func<RespSession, string> Value)[] ConfigParameters =
    [
        ("maxmemory", static _ => "0"),
        ("maxmemory-policy", static _ => "noeviction"),
        ("save", static _ => ""),
        ("appendonly", static _ => "no"),
        ("appendfsync", static _ => "everysec"),
        ("databases", static _ => "16"),
        ("port", static s => s.LocalPort.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("bind", static _ => "127.0.0.1"),
        ("timeout", static _ => "0"),
        ("maxclients", static s => s._core.Options.MaxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("proto-max-bulk-len", static s => s._core.Options.MaxFrameSize.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        ("cluster-enabled", static _ => "no"),
        ("notify-keyspace-events", static _ => ""),
        ("slave-read-only", static _ => "yes"),
        ("replica-read-only", static _ => "yes"),
    ];

    /// <summary>INFO [section ...]: "all", "everything" and "default" mean every section; keyspace is asked of a node.</summary>
    private void Info(in RespRequest request)
    {
        var sections = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 1; i < request.Count; i++)
        {
            var name = Encoding.UTF8.GetString(request[i]).ToLowerInvariant();
            if (name is "all" or "everything")
                sections.UnionWith(RespInfoReport.AllSections);
            else if (name == "default")
                sections.UnionWith(RespInfoReport.DefaultSections);
            else
                sections.Add(name);
        }
        if (sections.Count == 0)
            sections.UnionWith(RespInfoReport.DefaultSections);
        if (!sections.Contains("keyspace") || _queueing)
        {
            RespWriter.WriteBulkString(_local, RespInfoReport.Build(_server, LocalPort, sections));
            SendLocal();
            return;
        }
        sections.Remove("keyspace");
        var text = RespInfoReport.Build(_server, LocalPort, sections);
        // The keyspace section needs every database's key count: one read of a node, then the reply.
        var slot = (ReplySlot)BeginCommand(ReplyKind.Info);
        lock (_replyLock)
        {
            slot.Saved = ReplySlot.Fresh(slot.Saved);
            slot.Saved.Write(Encoding.UTF8.GetBytes(text));
        }
        KeyCountRequest.WriteBody(AddOp(Opcode.KeyCount, KeyCountRequest.Size), KeyCountRequest.PerDatabase);
        EndCommand();
    }

    /// <summary>INFO's keyspace section from a node's per-database counts (under the reply lock).</summary>
    private void OnInfoReply(ReplySlot slot, ReadOnlySpan<byte> counts)
    {
        var text = new StringBuilder(Encoding.UTF8.GetString(slot.Saved!.WrittenSpan));
        if (text.Length > 0)
            text.Append("\r\n");
        text.Append("# Keyspace\r\n");
        for (var db = 0; db < DatabaseKeys.Count; db++)
        {
            var keys = KeyCountRequest.ReadCountOf(counts, db);
            if (keys > 0)
                text.Append(System.Globalization.CultureInfo.InvariantCulture, $"db{db}:keys={keys},expires=0,avg_ttl=0\r\n");
        }
        _render.ResetWrittenCount();
        RespWriter.WriteBulkString(_render, text.ToString());
        DeliverRendered(slot);
    }

    /// <summary>COMMAND, COMMAND COUNT|LIST|INFO|DOCS|GETKEYS: enough for redis-cli and client libraries.</summary>
    private void Command(in RespRequest request)
    {
        if (request.Count == 1)
        {
            RespWriter.WriteArrayHeader(_local, RespCommandTable.All.Length);
            foreach (var info in RespCommandTable.All)
                WriteCommandInfo(info);
            SendLocal();
            return;
        }
        var sub = request[1];
        if (RespCommandTable.Is(sub, "COUNT"u8) && request.Count == 2)
        {
            ReplyInteger(RespCommandTable.All.Length);
        }
        else if (RespCommandTable.Is(sub, "LIST"u8))
        {
            RespWriter.WriteArrayHeader(_local, RespCommandTable.All.Length);
            foreach (var info in RespCommandTable.All)
                RespWriter.WriteBulkString(_local, info.Name);
            SendLocal();
        }
        else if (RespCommandTable.Is(sub, "INFO"u8))
        {
            RespWriter.WriteArrayHeader(_local, request.Count - 2);
            for (var i = 2; i < request.Count; i++)
            {
                if (RespCommandTable.Find(request[i]) is { } info)
                    WriteCommandInfo(info);
                else
                    RespWriter.WriteNull(_local, _resp3);
            }
            SendLocal();
        }
        else if (RespCommandTable.Is(sub, "GETKEYS"u8) && request.Count >= 3)
        {
            CommandGetKeys(request);
        }
        else if (RespCommandTable.Is(sub, "DOCS"u8))
        {
            var wanted = new List<RespCommandInfo>();
            for (var i = 2; i < request.Count; i++)
            {
                if (RespCommandTable.Find(request[i]) is { } info)
                    wanted.Add(info);
            }
            if (request.Count == 2)
                wanted.AddRange(RespCommandTable.All);
            RespWriter.WriteMapHeader(_local, wanted.Count, _resp3);
            foreach (var info in wanted)
            {
                RespWriter.WriteBulkString(_local, info.Name);
                RespWriter.WriteMapHeader(_local, 3, _resp3);
                RespWriter.WriteBulkString(_local, "summary");
                RespWriter.WriteBulkString(_local, info.Summary);
                RespWriter.WriteBulkString(_local, "since");
                RespWriter.WriteBulkString(_local, "1.0.0");
                RespWriter.WriteBulkString(_local, "group");
                RespWriter.WriteBulkString(_local, info.Group);
            }
            SendLocal();
        }
        else
        {
            ReplyError($"ERR unknown subcommand or wrong number of arguments for 'COMMAND|{Printable(sub)}'");
        }
    }

    /// <summary>COMMAND GETKEYS command arg...: the key positions of the command table.</summary>
    private void CommandGetKeys(in RespRequest request)
    {
        if (RespCommandTable.Find(request[2]) is not { } info)
        {
            ReplyError("ERR Invalid command specified");
            return;
        }
        var argc = request.Count - 2;
        if (!info.AcceptsArity(argc))
        {
            ReplyError("ERR Invalid number of arguments specified for command");
            return;
        }
        if (info.FirstKey == 0)
        {
            ReplyError("ERR The command has no key arguments");
            return;
        }
        var last = info.LastKey < 0 ? argc + info.LastKey : Math.Min(info.LastKey, argc - 1);
        var keys = new List<int>();
        for (var i = info.FirstKey; i <= last; i += info.Step)
            keys.Add(i + 2);
        RespWriter.WriteArrayHeader(_local, keys.Count);
        foreach (var index in keys)
            RespWriter.WriteBulk(_local, request[index]);
        SendLocal();
    }

    /// <summary>The ten-element reply of Redis 7: name, arity, flags, first/last key, step, ACL categories, tips, key specs, subcommands.</summary>
    private void WriteCommandInfo(RespCommandInfo info)
    {
        RespWriter.WriteArrayHeader(_local, 10);
        RespWriter.WriteBulkString(_local, info.Name);
        RespWriter.WriteInteger(_local, info.Arity);
        RespWriter.WriteArrayHeader(_local, info.Flags.Length);
        foreach (var flag in info.Flags)
            RespWriter.WriteSimple(_local, Encoding.ASCII.GetBytes(flag));
        RespWriter.WriteInteger(_local, info.FirstKey);
        RespWriter.WriteInteger(_local, info.LastKey);
        RespWriter.WriteInteger(_local, info.Step);
        RespWriter.WriteArrayHeader(_local, 0);
        RespWriter.WriteArrayHeader(_local, 0);
        RespWriter.WriteArrayHeader(_local, 0);
        RespWriter.WriteArrayHeader(_local, 0);
    }

    /// <summary>CONFIG GET pattern...: the parameters clients read; CONFIG SET: a clear refusal; CONFIG RESETSTAT: accepted.</summary>
    private void Config(in RespRequest request)
    {
        var sub = request[1];
        if (RespCommandTable.Is(sub, "GET"u8) && request.Count >= 3)
        {
            var matched = new List<(string Name, string Value)>();
            foreach (var (name, value) in ConfigParameters)
            {
                for (var i = 2; i < request.Count; i++)
                {
                    if (GlobPattern.IsMatch(Encoding.ASCII.GetBytes(Encoding.UTF8.GetString(request[i]).ToLowerInvariant()), Encoding.ASCII.GetBytes(name)))
                    {
                        matched.Add((name, value(this)));
                        break;
                    }
                }
            }
            RespWriter.WriteMapHeader(_local, matched.Count, _resp3);
            foreach (var (name, value) in matched)
            {
                RespWriter.WriteBulkString(_local, name);
                RespWriter.WriteBulkString(_local, value);
            }
            SendLocal();
        }
        else if (RespCommandTable.Is(sub, "SET"u8) && request.Count >= 4 && request.Count % 2 == 0)
        {
            ReplyError($"ERR CONFIG SET failed (possibly related to argument '{Printable(request[2])}') - KvnDb takes its settings from the router's command line, not at run time");
        }
        else if (RespCommandTable.Is(sub, "RESETSTAT"u8) && request.Count == 2)
        {
            ReplyOk();
        }
        else
        {
            ReplyError($"ERR unknown subcommand or wrong number of arguments for 'CONFIG|{Printable(sub)}'. Try CONFIG HELP.");
        }
    }

    /// <summary>FUNCTION and SCRIPT: nothing is ever loaded, so FLUSH succeeds and LIST is empty; the rest is refused.</summary>
    private void Scripting(in RespRequest request, bool function)
    {
        var sub = request[1];
        var flushOption = request.Count == 2 || (request.Count == 3 && (RespCommandTable.Is(request[2], "ASYNC"u8) || RespCommandTable.Is(request[2], "SYNC"u8)));
        if (RespCommandTable.Is(sub, "FLUSH"u8) && flushOption)
            ReplyOk();
        else if (function && RespCommandTable.Is(sub, "LIST"u8))
        {
            RespWriter.WriteArrayHeader(_local, 0);
            SendLocal();
        }
        else
            ReplyError($"ERR {(function ? "FUNCTION" : "SCRIPT")} {Printable(sub).ToUpperInvariant()} is not supported by KvnDb (no scripting)");
    }

    /// <summary>TIME: the router's clock, the one writes carry (seconds and microseconds, as strings).</summary>
    private void Time()
    {
        var now = DateTimeOffset.UtcNow;
        var micros = (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        RespWriter.WriteArrayHeader(_local, 2);
        RespWriter.WriteBulkString(_local, (micros / 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        RespWriter.WriteBulkString(_local, (micros % 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture));
        SendLocal();
    }
}

using System.Text;

namespace KvnDb.Resp;

/// <summary>The server family: INFO, COMMAND, CONFIG and DBSIZE.</summary>
internal sealed partial class RespSession
{
    /// <summary>The RESP port, for INFO (set by the handler).</summary>
    public int LocalPort { get; init; }

    /// <summary>INFO [section ...]: "all", "everything" and "default" mean every section.</summary>
    private void Info(in RespRequest request)
    {
        var sections = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 1; i < request.Count; i++)
        {
            var name = Encoding.UTF8.GetString(request[i]).ToLowerInvariant();
            if (name is "all" or "everything" or "default")
                sections.UnionWith(RespInfoReport.DefaultSections);
            else
                sections.Add(name);
        }
        if (sections.Count == 0)
            sections.UnionWith(RespInfoReport.DefaultSections);
        RespWriter.WriteBulkString(_local, RespInfoReport.Build(_server, LocalPort, sections));
        SendLocal();
    }

    /// <summary>COMMAND, COMMAND COUNT, COMMAND INFO name..., COMMAND DOCS [name...]: enough for redis-cli and client libraries.</summary>
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
        else if (RespCommandTable.Is(sub, "INFO"u8))
        {
            RespWriter.WriteArrayHeader(_local, request.Count - 2);
            for (var i = 2; i < request.Count; i++)
            {
                var command = RespCommandTable.Lookup(request[i]);
                if (command == RespCommand.Unknown)
                    RespWriter.WriteNull(_local, _resp3);
                else
                    WriteCommandInfo(RespCommandTable.Info(command));
            }
            SendLocal();
        }
        else if (RespCommandTable.Is(sub, "DOCS"u8))
        {
            var wanted = new List<RespCommandInfo>();
            for (var i = 2; i < request.Count; i++)
            {
                var command = RespCommandTable.Lookup(request[i]);
                if (command != RespCommand.Unknown)
                    wanted.Add(RespCommandTable.Info(command));
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
                RespWriter.WriteBulkString(_local, info.FirstKey > 0 ? "string" : "server");
            }
            SendLocal();
        }
        else
        {
            ReplyError($"ERR unknown subcommand or wrong number of arguments for 'COMMAND|{Printable(sub)}'");
        }
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

    private void DbSize()
    {
        ulong number;
        lock (_replyLock)
            number = BeginSlot(ReplyKind.DbSize).Number;
        SubmitListing(number, default);
    }
}

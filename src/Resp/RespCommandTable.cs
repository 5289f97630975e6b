using System.Text;

namespace KvnDb.Resp;

/// <summary>Looks command names up without allocating (ASCII, case-insensitive) and holds what COMMAND reports.</summary>
internal static class RespCommandTable
{
    private static readonly string[] Write = ["write", "denyoom"];
    private static readonly string[] WriteFast = ["write", "denyoom", "fast"];
    private static readonly string[] Delete = ["write"];
    private static readonly string[] Read = ["readonly", "fast"];
    private static readonly string[] Slow = ["readonly"];
    private static readonly string[] Local = ["loading", "stale", "fast"];
    private static readonly string[] Admin = ["admin", "noscript", "loading", "stale"];
    private static readonly string[] NoAuth = ["noscript", "loading", "stale", "fast", "no_auth"];
    private static readonly string[] PubSubFlags = ["pubsub", "noscript", "loading", "stale"];

    public static readonly RespCommandInfo[] All =
    [
        // Hot commands first: lookups scan their length's bucket in this order.
        new(RespCommand.Get, "get", 2, Read, 1, 1, 1, "Returns the string value of a key."),
        new(RespCommand.Set, "set", -3, Write, 1, 1, 1, "Sets the string value of a key (every option evaluated by the nodes: atomic)."),
        new(RespCommand.Del, "del", -2, Delete, 1, -1, 1, "Deletes one or more keys (atomically).", "generic"),
        new(RespCommand.Ping, "ping", -1, Local, 0, 0, 0, "Returns the server's liveliness response.", "connection"),
        new(RespCommand.Echo, "echo", 2, Local, 0, 0, 0, "Returns the given string.", "connection"),
        new(RespCommand.Hello, "hello", -1, NoAuth, 0, 0, 0, "Handshakes with the server (RESP2 or RESP3).", "connection"),
        new(RespCommand.Auth, "auth", -2, NoAuth, 0, 0, 0, "Authenticates the connection with the router password.", "connection"),
        new(RespCommand.Select, "select", 2, Local, 0, 0, 0, "Changes the selected database (0 to 15).", "connection"),
        new(RespCommand.Quit, "quit", -1, ["loading", "stale", "fast", "no_auth", "allow_busy"], 0, 0, 0, "Closes the connection.", "connection"),
        new(RespCommand.Reset, "reset", 1, ["noscript", "loading", "stale", "fast", "no_auth"], 0, 0, 0, "Resets the connection.", "connection"),
        new(RespCommand.Client, "client", -2, ["noscript", "loading", "stale"], 0, 0, 0, "Connection name, id, list, kill, reply mode.", "connection"),
        new(RespCommand.SetNx, "setnx", 3, WriteFast, 1, 1, 1, "Sets a key only if it does not exist (atomic)."),
        new(RespCommand.SetEx, "setex", 4, Write, 1, 1, 1, "Sets a key with a time to live in seconds."),
        new(RespCommand.PSetEx, "psetex", 4, Write, 1, 1, 1, "Sets a key with a time to live in milliseconds."),
        new(RespCommand.GetSet, "getset", 3, WriteFast, 1, 1, 1, "Sets a key and returns its old value."),
        new(RespCommand.GetDel, "getdel", 2, ["write", "fast"], 1, 1, 1, "Returns a key's value and deletes it."),
        new(RespCommand.GetEx, "getex", -2, ["write", "fast"], 1, 1, 1, "Returns a key's value and changes its expiry."),
        new(RespCommand.MGet, "mget", -2, Read, 1, -1, 1, "Returns the values of one or more keys."),
        new(RespCommand.MSet, "mset", -3, Write, 1, -1, 2, "Sets the values of one or more keys in one write."),
        new(RespCommand.MSetNx, "msetnx", -3, Write, 1, -1, 2, "Sets several keys only if none exists (atomic)."),
        new(RespCommand.Append, "append", 3, WriteFast, 1, 1, 1, "Appends to a key's value."),
        new(RespCommand.Strlen, "strlen", 2, Read, 1, 1, 1, "Returns the length of a key's value."),
        new(RespCommand.GetRange, "getrange", 4, Slow, 1, 1, 1, "Returns a substring of a key's value."),
        new(RespCommand.GetRange, "substr", 4, Slow, 1, 1, 1, "Returns a substring of a key's value (GETRANGE)."),
        new(RespCommand.SetRange, "setrange", 4, Write, 1, 1, 1, "Overwrites part of a key's value at an offset."),
        new(RespCommand.GetBit, "getbit", 3, Read, 1, 1, 1, "Returns a bit of a key's value."),
        new(RespCommand.Lcs, "lcs", -3, Slow, 1, 2, 1, "Finds the longest common subsequence of two values."),
        new(RespCommand.Incr, "incr", 2, WriteFast, 1, 1, 1, "Increments a key's integer value by one."),
        new(RespCommand.Decr, "decr", 2, WriteFast, 1, 1, 1, "Decrements a key's integer value by one."),
        new(RespCommand.IncrBy, "incrby", 3, WriteFast, 1, 1, 1, "Increments a key's integer value."),
        new(RespCommand.DecrBy, "decrby", 3, WriteFast, 1, 1, 1, "Decrements a key's integer value."),
        new(RespCommand.IncrByFloat, "incrbyfloat", 3, WriteFast, 1, 1, 1, "Increments a key's number by a float."),
        new(RespCommand.Expire, "expire", -3, ["write", "fast"], 1, 1, 1, "Sets a key's time to live in seconds.", "generic"),
        new(RespCommand.PExpire, "pexpire", -3, ["write", "fast"], 1, 1, 1, "Sets a key's time to live in milliseconds.", "generic"),
        new(RespCommand.ExpireAt, "expireat", -3, ["write", "fast"], 1, 1, 1, "Sets a key's expiry as a Unix time in seconds.", "generic"),
        new(RespCommand.PExpireAt, "pexpireat", -3, ["write", "fast"], 1, 1, 1, "Sets a key's expiry as a Unix time in milliseconds.", "generic"),
        new(RespCommand.Ttl, "ttl", 2, Read, 1, 1, 1, "Returns a key's time to live in seconds.", "generic"),
        new(RespCommand.PTtl, "pttl", 2, Read, 1, 1, 1, "Returns a key's time to live in milliseconds.", "generic"),
        new(RespCommand.ExpireTime, "expiretime", 2, Read, 1, 1, 1, "Returns a key's expiry as a Unix time in seconds.", "generic"),
        new(RespCommand.PExpireTime, "pexpiretime", 2, Read, 1, 1, 1, "Returns a key's expiry as a Unix time in milliseconds.", "generic"),
        new(RespCommand.Persist, "persist", 2, ["write", "fast"], 1, 1, 1, "Removes a key's expiry.", "generic"),
        new(RespCommand.Unlink, "unlink", -2, ["write", "fast"], 1, -1, 1, "Deletes one or more keys (as DEL).", "generic"),
        new(RespCommand.Exists, "exists", -2, Read, 1, -1, 1, "Counts how many of the keys exist.", "generic"),
        new(RespCommand.Touch, "touch", -2, Read, 1, -1, 1, "Counts how many of the keys exist (access times are not kept).", "generic"),
        new(RespCommand.Type, "type", 2, Read, 1, 1, 1, "Returns a key's type (string or none).", "generic"),
        new(RespCommand.Rename, "rename", 3, Delete, 1, 2, 1, "Renames a key (atomic, keeps its expiry).", "generic"),
        new(RespCommand.RenameNx, "renamenx", 3, ["write", "fast"], 1, 2, 1, "Renames a key only if the new name is free.", "generic"),
        new(RespCommand.Copy, "copy", -3, Write, 1, 2, 1, "Copies a key (optionally to another database).", "generic"),
        new(RespCommand.Move, "move", 3, ["write", "fast"], 1, 1, 1, "Moves a key to another database.", "generic"),
        new(RespCommand.RandomKey, "randomkey", 1, Slow, 0, 0, 0, "Returns a random key of the database.", "generic"),
        new(RespCommand.Keys, "keys", 2, Slow, 0, 0, 0, "Returns all key names that match a glob pattern.", "generic"),
        new(RespCommand.Scan, "scan", -2, Slow, 0, 0, 0, "Iterates over the key names in byte order.", "generic"),
        new(RespCommand.DbSize, "dbsize", 1, Read, 0, 0, 0, "Returns the number of keys of the database (O(1)).", "server"),
        new(RespCommand.FlushDb, "flushdb", -1, ["write"], 0, 0, 0, "Deletes every key of the database.", "server"),
        new(RespCommand.FlushAll, "flushall", -1, ["write"], 0, 0, 0, "Deletes every key of every database.", "server"),
        new(RespCommand.Object, "object", -2, Slow, 2, 2, 1, "Inspects a value (ENCODING).", "generic"),
        new(RespCommand.SwapDb, "swapdb", 3, ["write", "fast"], 0, 0, 0, "Not supported by KvnDb.", "server"),
        new(RespCommand.Multi, "multi", 1, ["noscript", "loading", "stale", "fast", "allow_busy"], 0, 0, 0, "Starts a transaction.", "transactions"),
        new(RespCommand.Exec, "exec", 1, ["noscript", "loading", "stale", "skip_slowlog"], 0, 0, 0, "Runs the queued commands as one atomic batch.", "transactions"),
        new(RespCommand.Discard, "discard", 1, ["noscript", "loading", "stale", "fast", "allow_busy"], 0, 0, 0, "Discards the queued commands.", "transactions"),
        new(RespCommand.Watch, "watch", -2, ["noscript", "loading", "stale", "fast", "allow_busy"], 1, -1, 1, "Makes EXEC conditional on the keys not changing.", "transactions"),
        new(RespCommand.Unwatch, "unwatch", 1, ["noscript", "loading", "stale", "fast", "allow_busy"], 0, 0, 0, "Forgets the watched keys.", "transactions"),
        new(RespCommand.Subscribe, "subscribe", -2, PubSubFlags, 0, 0, 0, "Listens for messages on channels.", "pubsub"),
        new(RespCommand.Unsubscribe, "unsubscribe", -1, PubSubFlags, 0, 0, 0, "Stops listening on channels.", "pubsub"),
        new(RespCommand.PSubscribe, "psubscribe", -2, PubSubFlags, 0, 0, 0, "Listens for messages on channels matching patterns.", "pubsub"),
        new(RespCommand.PUnsubscribe, "punsubscribe", -1, PubSubFlags, 0, 0, 0, "Stops listening on patterns.", "pubsub"),
        new(RespCommand.Publish, "publish", 3, ["pubsub", "loading", "stale", "fast"], 0, 0, 0, "Posts a message to the router's subscribers of a channel.", "pubsub"),
        new(RespCommand.PubSub, "pubsub", -2, ["pubsub", "loading", "stale"], 0, 0, 0, "Channels, subscriber and pattern counts.", "pubsub"),
        new(RespCommand.Info, "info", -1, ["loading", "stale"], 0, 0, 0, "Returns information about the router and its nodes.", "server"),
        new(RespCommand.Command, "command", -1, ["loading", "stale"], 0, 0, 0, "Returns details about the commands.", "server"),
        new(RespCommand.Config, "config", -2, Admin, 0, 0, 0, "Configuration (GET of what clients read).", "server"),
        new(RespCommand.Function, "function", -2, ["noscript"], 0, 0, 0, "Functions (none are loaded: FLUSH and LIST only).", "scripting"),
        new(RespCommand.Script, "script", -2, ["noscript"], 0, 0, 0, "Scripts (none are loaded: FLUSH only).", "scripting"),
        new(RespCommand.Time, "time", 1, ["loading", "stale", "fast"], 0, 0, 0, "Returns the router's time.", "server"),
        new(RespCommand.Save, "save", 1, ["admin", "noscript", "no_multi"], 0, 0, 0, "Not supported: nodes checkpoint on their own (--checkpoint-interval).", "server"),
        new(RespCommand.Save, "bgsave", -1, ["admin", "noscript", "no_multi"], 0, 0, 0, "Not supported: nodes checkpoint on their own (--checkpoint-interval).", "server"),
        new(RespCommand.Save, "shutdown", -1, ["admin", "noscript", "loading", "stale", "no_multi"], 0, 0, 0, "Not supported: stop the router with a signal.", "server"),
        new(RespCommand.LastSave, "lastsave", 1, ["loading", "stale", "fast"], 0, 0, 0, "Returns the router's start time (nodes checkpoint on their own).", "server"),
    ];

    private static readonly RespCommandInfo[] ByCommand = IndexByCommand();

    private static readonly RespCommandInfo[][] ByLength = IndexByLength();

    public static RespCommandInfo Info(RespCommand command) => ByCommand[(int)command];

    /// <summary>The entry by name (SUBSTR is GETRANGE's command but has its own entry).</summary>
    public static RespCommandInfo? Find(ReadOnlySpan<byte> name)
    {
        if (name.Length >= ByLength.Length)
            return null;
        foreach (var info in ByLength[name.Length])
        {
            if (Ascii.EqualsIgnoreCase(name, info.UpperName))
                return info;
        }
        return null;
    }

    public static RespCommand Lookup(ReadOnlySpan<byte> name) => Find(name)?.Command ?? RespCommand.Unknown;

    private static RespCommandInfo[] IndexByCommand()
    {
        var index = new RespCommandInfo[Enum.GetValues<RespCommand>().Length];
        foreach (var info in All)
            index[(int)info.Command] ??= info;
        return index;
    }

    private static RespCommandInfo[][] IndexByLength()
    {
        var longest = All.Max(static info => info.Name.Length);
        var index = new RespCommandInfo[longest + 1][];
        for (var length = 0; length <= longest; length++)
            index[length] = [.. All.Where(info => info.Name.Length == length)];
        return index;
    }

    public static bool Is(ReadOnlySpan<byte> argument, ReadOnlySpan<byte> upperCaseWord) => Ascii.EqualsIgnoreCase(argument, upperCaseWord);
}

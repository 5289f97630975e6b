using System.Text;

namespace KvnDb.Resp;

/// <summary>Looks command names up without allocating (ASCII, case-insensitive) and holds what COMMAND reports.</summary>
internal static class RespCommandTable
{
    public static readonly RespCommandInfo[] All =
    [
        new(RespCommand.Ping, "ping", -1, ["fast"], 0, 0, 0, "Returns the server's liveliness response."),
        new(RespCommand.Echo, "echo", 2, ["fast"], 0, 0, 0, "Returns the given string."),
        new(RespCommand.Hello, "hello", -1, ["noscript", "loading", "stale", "fast", "no_auth"], 0, 0, 0, "Handshakes with the server (RESP2 or RESP3)."),
        new(RespCommand.Auth, "auth", -2, ["noscript", "loading", "stale", "fast", "no_auth"], 0, 0, 0, "Authenticates the connection with the router password."),
        new(RespCommand.Select, "select", 2, ["loading", "stale", "fast"], 0, 0, 0, "Changes the selected database (only 0 exists)."),
        new(RespCommand.Quit, "quit", -1, ["loading", "stale", "fast", "no_auth"], 0, 0, 0, "Closes the connection."),
        new(RespCommand.Get, "get", 2, ["readonly", "fast"], 1, 1, 1, "Returns the string value of a key."),
        new(RespCommand.Set, "set", -3, ["write", "denyoom"], 1, 1, 1, "Sets the string value of a key (NX, XX and GET are evaluated by the nodes: atomic)."),
        new(RespCommand.SetNx, "setnx", 3, ["write", "denyoom", "fast"], 1, 1, 1, "Sets a key only if it does not exist (atomic)."),
        new(RespCommand.SetEx, "setex", 4, ["write", "denyoom"], 1, 1, 1, "Sets a key with a time to live: not supported (keys do not expire)."),
        new(RespCommand.Del, "del", -2, ["write"], 1, -1, 1, "Deletes one or more keys."),
        new(RespCommand.Unlink, "unlink", -2, ["write", "fast"], 1, -1, 1, "Deletes one or more keys (same as DEL)."),
        new(RespCommand.Exists, "exists", -2, ["readonly", "fast"], 1, -1, 1, "Counts how many of the keys exist."),
        new(RespCommand.MGet, "mget", -2, ["readonly", "fast"], 1, -1, 1, "Returns the values of one or more keys."),
        new(RespCommand.MSet, "mset", -3, ["write", "denyoom"], 1, -1, 2, "Sets the values of one or more keys in one write."),
        new(RespCommand.Keys, "keys", 2, ["readonly"], 0, 0, 0, "Returns all key names that match a glob pattern."),
        new(RespCommand.Scan, "scan", -2, ["readonly"], 0, 0, 0, "Iterates over the key names in byte order."),
        new(RespCommand.DbSize, "dbsize", 1, ["readonly", "fast"], 0, 0, 0, "Returns the number of keys."),
        new(RespCommand.Info, "info", -1, ["loading", "stale"], 0, 0, 0, "Returns information about the router and its nodes."),
        new(RespCommand.Command, "command", -1, ["loading", "stale"], 0, 0, 0, "Returns details about the commands."),
        new(RespCommand.Config, "config", -2, ["admin", "noscript", "loading", "stale"], 0, 0, 0, "Configuration (read-only, empty)."),
        new(RespCommand.Client, "client", -2, ["noscript", "loading", "stale"], 0, 0, 0, "Connection name and id."),
    ];

    private static readonly RespCommandInfo[] ByCommand = IndexByCommand();

    public static RespCommandInfo Info(RespCommand command) => ByCommand[(int)command];

    private static RespCommandInfo[] IndexByCommand()
    {
        var index = new RespCommandInfo[Enum.GetValues<RespCommand>().Length];
        foreach (var info in All)
            index[(int)info.Command] = info;
        return index;
    }

    public static RespCommand Lookup(ReadOnlySpan<byte> name) => name.Length switch
    {
        3 => Is(name, "GET"u8) ? RespCommand.Get : Is(name, "SET"u8) ? RespCommand.Set : Is(name, "DEL"u8) ? RespCommand.Del : RespCommand.Unknown,
        4 => Is(name, "PING"u8) ? RespCommand.Ping : Is(name, "ECHO"u8) ? RespCommand.Echo : Is(name, "AUTH"u8) ? RespCommand.Auth
            : Is(name, "QUIT"u8) ? RespCommand.Quit : Is(name, "MGET"u8) ? RespCommand.MGet : Is(name, "MSET"u8) ? RespCommand.MSet
            : Is(name, "KEYS"u8) ? RespCommand.Keys : Is(name, "SCAN"u8) ? RespCommand.Scan : Is(name, "INFO"u8) ? RespCommand.Info
            : RespCommand.Unknown,
        5 => Is(name, "HELLO"u8) ? RespCommand.Hello : Is(name, "SETNX"u8) ? RespCommand.SetNx : Is(name, "SETEX"u8) ? RespCommand.SetEx : RespCommand.Unknown,
        6 => Is(name, "SELECT"u8) ? RespCommand.Select : Is(name, "EXISTS"u8) ? RespCommand.Exists : Is(name, "DBSIZE"u8) ? RespCommand.DbSize
            : Is(name, "CONFIG"u8) ? RespCommand.Config : Is(name, "CLIENT"u8) ? RespCommand.Client : Is(name, "UNLINK"u8) ? RespCommand.Unlink
            : Is(name, "PSETEX"u8) ? RespCommand.SetEx : RespCommand.Unknown,
        7 => Is(name, "COMMAND"u8) ? RespCommand.Command : RespCommand.Unknown,
        _ => RespCommand.Unknown,
    };

    public static bool Is(ReadOnlySpan<byte> argument, ReadOnlySpan<byte> upperCaseWord) => Ascii.EqualsIgnoreCase(argument, upperCaseWord);
}

namespace KvnDb.Cli;

/// <summary>Every console command, once: what <c>help</c> lists, what Tab completes, what the hints show.</summary>
internal static class CommandTable
{
    public static readonly IReadOnlyList<CommandSpec> All =
    [
        new("get", "KEY", "print the value of KEY, or (nil)", 1, 1, ["show", "view", "print"]),
        new("set", "KEY VALUE [NX|XX] [EX SECONDS|PX MILLISECONDS] [KEEPTTL] [GET]", "store VALUE under KEY", 2, 7, []),
        new("setnx", "KEY VALUE", "store VALUE only if KEY does not exist; (integer) 1 if it was set", 2, 2, []),
        new("getdel", "KEY", "delete KEY and print the value it had", 1, 1, []),
        new("del", "KEY [KEY ...]", "delete keys; (integer) how many existed", 1, -1, ["delete", "remove", "unlink"]),
        new("exists", "KEY [KEY ...]", "(integer) how many of the keys exist", 1, -1, []),
        new("mget", "KEY [KEY ...]", "the values of many keys in one round trip", 1, -1, []),
        new("mset", "KEY VALUE [KEY VALUE ...]", "store many keys as one write", 2, -1, []),
        new("incr", "KEY [BY]", "add 1 (or BY) to KEY's integer value; print the result", 1, 2, []),
        new("incrby", "KEY BY", "add BY to KEY's integer value", 2, 2, []),
        new("decr", "KEY", "subtract 1 from KEY's integer value", 1, 1, []),
        new("decrby", "KEY BY", "subtract BY from KEY's integer value", 2, 2, []),
        new("incrbyfloat", "KEY BY", "add the decimal BY to KEY's number", 2, 2, []),
        new("append", "KEY VALUE", "append VALUE; (integer) the new length", 2, 2, []),
        new("setrange", "KEY OFFSET VALUE", "overwrite part of the value at OFFSET; (integer) the new length", 3, 3, []),
        new("expire", "KEY SECONDS", "KEY expires SECONDS from now (decimals allowed); (integer) 1 if KEY exists", 2, 2, []),
        new("pexpire", "KEY MILLISECONDS", "KEY expires MILLISECONDS from now", 2, 2, []),
        new("persist", "KEY", "remove KEY's expiry; (integer) 1 if it had one", 1, 1, []),
        new("ttl", "KEY", "seconds KEY has left: -1 no expiry, -2 no such key", 1, 1, []),
        new("pttl", "KEY", "milliseconds KEY has left: -1 no expiry, -2 no such key", 1, 1, []),
        new("getv", "KEY", "KEY's value and version", 1, 1, []),
        new("cas", "KEY VERSION VALUE", "store VALUE only if KEY's version is still VERSION (0: absent); print the new version", 3, 3, []),
        new("keys", "[PREFIX]", "list the keys starting with PREFIX (all without), then how many", 0, 1, ["getkeys", "list"]),
        new("dbsize", "", "(integer) how many keys there are (counted by a listing)", 0, 0, []),
        new("multi", "", "start a transaction: later writes are queued until exec", 0, 0, [], PromptOnly: true),
        new("require", "KEY VERSION", "inside multi: commit only if KEY is still at VERSION (0: absent; see getv)", 2, 2, [], PromptOnly: true),
        new("exec", "", "apply the queued writes atomically (nothing if a require fails)", 0, 0, [], PromptOnly: true),
        new("discard", "", "drop the queued transaction", 0, 0, [], PromptOnly: true),
        new("ping", "", "round trip to the router", 0, 0, []),
        new("info", "", "router counters and every node with its state", 0, 0, []),
        new("slots", "[move FROM TO --count N]", "the slot map: each replica group's slots, keys, writes (its sequence) and nodes, and the migration under way; " +
            "'slots move' moves N slots of group FROM to group TO online", 0, 5, []),
        new("groups", "[add NAME]", "the replica groups (as 'slots' shows them); 'groups add NAME' adds an empty group to the running router " +
            "(then start its nodes with 'kvndb-node --group NAME' and give it slots with 'slots move')", 0, 2, []),
        new("digest", "", "every node's keys, last sequence and content digest, with its group (exit code 2 when a group's replicas differ)", 0, 0, []),
        new("monitor", "", "print every command the router sees, as it sees it (Ctrl+C to stop)", 0, 0, []),
        new("help", "[COMMAND]", "this list, or one command's usage", 0, 1, ["?"]),
        new("quit", "", "leave the prompt (also: exit, Ctrl+D)", 0, 0, ["exit"], PromptOnly: true),
    ];

    private static readonly Dictionary<string, CommandSpec> ByName = BuildIndex();

    /// <summary>The command for a typed name or alias, case-insensitively.</summary>
    public static CommandSpec? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Names and aliases that start with <paramref name="prefix"/>, for Tab completion.</summary>
    public static IEnumerable<string> Complete(string prefix) =>
        ByName.Keys.Where(n => n.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && n != "?").Order(StringComparer.Ordinal);

    public static string Help()
    {
        var width = All.Max(c => c.Usage.Length > 44 ? 0 : c.Usage.Length) + 2;
        var text = new System.Text.StringBuilder("Commands (case does not matter):\n");
        foreach (var command in All)
        {
            var aliases = command.Aliases.Length == 0 ? "" : $" (also: {string.Join(", ", command.Aliases)})";
            var usage = command.Usage.Length > 44 ? command.Usage + "\n" + new string(' ', width + 2) : command.Usage.PadRight(width);
            text.Append("  ").Append(usage).Append(command.Summary).Append(aliases).Append('\n');
        }
        text.Append("Strings: quote with '...' or \"...\"; inside \"...\" \\n \\t \\\" \\\\ and \\xHH (any byte) work, as printed.\n");
        return text.ToString();
    }

    private static Dictionary<string, CommandSpec> BuildIndex()
    {
        var index = new Dictionary<string, CommandSpec>(StringComparer.OrdinalIgnoreCase);
        foreach (var command in All)
        {
            index.Add(command.Name, command);
            foreach (var alias in command.Aliases)
                index.Add(alias, command);
        }
        return index;
    }
}

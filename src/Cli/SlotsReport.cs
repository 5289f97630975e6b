using System.Globalization;
using System.Text;
using KvnDb.Client;

namespace KvnDb.Cli;

/// <summary>
/// <c>slots</c>: the slot map from <c>info</c>, one line per replica group: its slots (count and ranges), its keys
/// (as its first serving node last reported them), its writes (the group's sequence: its load since it began) and
/// its nodes, serving and in sync. Exit code 2 when a group owning slots has no serving node (its keys are unreachable).
/// </summary>
internal static class SlotsReport
{
    public static async Task<ConsoleReply> BuildAsync(KvnDbClient client, CancellationToken cancellationToken)
    {
        var info = await RouterInfo.ReadAsync(client, cancellationToken).ConfigureAwait(false);
        if (!info.Fields.TryGetValue("groups", out var names))
            return new ConsoleReply.Error("this router has no replica groups (it predates them)");
        var ranges = (info.Fields.TryGetValue("slot_map", out var map) ? map : "").Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Select(r => r.Split('=')).Where(p => p.Length == 2).GroupBy(p => p[1], p => p[0]).ToDictionary(g => g.Key, g => string.Join(",", g));
        var text = new StringBuilder();
        var problems = new List<string>();
        foreach (var name in names.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var fields = Pairs(info.Fields.TryGetValue($"group_{name}", out var line) ? line : "");
            string Field(string key) => fields.TryGetValue(key, out var value) ? value : "?";
            text.Append(CultureInfo.InvariantCulture,
                $"{name}\tslots={Field("slots")}\tranges={(ranges.TryGetValue(name, out var owned) ? owned : "none")}\tkeys={Field("keys")}\twrites={Field("sequence")}\tnodes={Field("nodes")}\tserving={Field("serving")}\tin_sync={Field("in_sync")}\n");
            if (Field("slots") != "0" && Field("serving") == "0")
                problems.Add($"group {name} owns slots and has no serving node");
        }
        if (info.Fields.TryGetValue("migration", out var migration))
            text.Append("migration\t").Append(migration).Append('\n');
        return new ConsoleReply.Text(text.ToString(), problems.Count == 0 ? 0 : DigestReport.Unhealthy, string.Concat(problems.Select(p => $"error: {p}\n")));
    }

    /// <summary><c>slots move FROM TO --count N</c> (or <c>slots move FROM TO N</c>): starts an online migration; the router says which slots move.</summary>
    public static async Task<ConsoleReply> MoveAsync(KvnDbClient client, string[] args, CancellationToken cancellationToken)
    {
        const string usage = "usage: slots move FROM TO --count N";
        if (args is not (["move", _, _, "--count", _] or ["move", _, _, _]))
            return new ConsoleReply.Error(usage);
        if (!int.TryParse(args[^1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count <= 0)
            return new ConsoleReply.Error($"N must be a positive number of slots; {usage}");
        try
        {
            return new ConsoleReply.Text(await client.MoveSlotsAsync(args[1], args[2], count, cancellationToken).ConfigureAwait(false) + "\n");
        }
        catch (KvnDbException ex)
        {
            return new ConsoleReply.Error(ex.Message);
        }
    }

    /// <summary><c>groups add NAME</c>: adds an empty replica group to the running router; the router says what to do next.</summary>
    public static async Task<ConsoleReply> AddGroupAsync(KvnDbClient client, string[] args, CancellationToken cancellationToken)
    {
        if (args is not ["add", var name])
            return new ConsoleReply.Error("usage: groups add NAME");
        try
        {
            return new ConsoleReply.Text(await client.AddGroupAsync(name, cancellationToken).ConfigureAwait(false) + "\n");
        }
        catch (KvnDbException ex)
        {
            return new ConsoleReply.Error(ex.Message);
        }
    }

    private static Dictionary<string, string> Pairs(string line) =>
        line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
}

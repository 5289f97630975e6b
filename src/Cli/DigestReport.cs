using System.Text;
using KvnDb.Client;
using KvnDb.Protocol;

namespace KvnDb.Cli;

/// <summary>
/// <c>digest</c>: one line per node (with its name and replica group from <c>info</c>), exit code 0 when the
/// serving nodes of each group agree and every in-sync member is serving, 2 otherwise (for scripts and health
/// checks). Groups hold different keys: only replicas of one group are compared.
/// </summary>
internal static class DigestReport
{
    public const int Unhealthy = 2;

    public static async Task<ConsoleReply> BuildAsync(KvnDbClient client, CancellationToken cancellationToken)
    {
        var entries = await client.DigestAsync(cancellationToken).ConfigureAwait(false);
        var nodes = (await RouterInfo.ReadAsync(client, cancellationToken).ConfigureAwait(false)).Nodes;
        var names = nodes.ToDictionary(n => n.Id, n => n.Fields.TryGetValue("name", out var name) ? name : "");
        var groups = nodes.ToDictionary(n => n.Id, n => n.Fields.TryGetValue("group", out var group) ? group : "");
        string GroupOf(int node) => groups.TryGetValue(node, out var group) ? group : "";
        var text = new StringBuilder();
        foreach (var e in entries)
        {
            var name = names.TryGetValue(e.NodeId, out var known) && known.Length > 0 ? $"\tname={known}" : "";
            if (GroupOf(e.NodeId) is { Length: > 0 } group)
                name += $"\tgroup={group}";
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"node{e.NodeId}{name}\t{e.State.ToString().ToLowerInvariant()}\tkeys={e.Digest.KeyCount}\tsequence={e.Digest.LastSequence}\tdigest={e.Digest.ContentHash:x16}\tmember={(e.InSync ? "yes" : "no")}\tlag={e.Lag}\n");
        }
        var problems = new List<string>();
        if (!entries.Any(e => e.State == NodeState.Serving))
            problems.Add("no node is serving");
        foreach (var group in entries.Where(e => e.State == NodeState.Serving).GroupBy(e => GroupOf(e.NodeId)))
        {
            if (group.Select(e => e.Digest).Distinct().Count() > 1)
                problems.Add(group.Key.Length == 0 ? "serving replicas differ" : $"serving replicas of group {group.Key} differ");
        }
        foreach (var e in entries.Where(e => e.InSync && e.State != NodeState.Serving))
            problems.Add($"in-sync member node{e.NodeId} is {e.State.ToString().ToLowerInvariant()}");
        return new ConsoleReply.Text(text.ToString(), problems.Count == 0 ? 0 : Unhealthy,
            string.Concat(problems.Select(p => $"error: {p}\n")));
    }
}

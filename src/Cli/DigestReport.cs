using System.Text;
using KvnDb.Client;
using KvnDb.Protocol;

namespace KvnDb.Cli;

/// <summary>
/// <c>digest</c>: one line per node (with its name from <c>info</c>), exit code 0 when all serving nodes
/// agree and every in-sync member is serving, 2 otherwise (for scripts and health checks).
/// </summary>
internal static class DigestReport
{
    public const int Unhealthy = 2;

    public static async Task<ConsoleReply> BuildAsync(KvnDbClient client, CancellationToken cancellationToken)
    {
        var entries = await client.DigestAsync(cancellationToken).ConfigureAwait(false);
        var names = (await RouterInfo.ReadAsync(client, cancellationToken).ConfigureAwait(false)).Nodes
            .ToDictionary(n => n.Id, n => n.Fields.TryGetValue("name", out var name) ? name : "");
        var text = new StringBuilder();
        foreach (var e in entries)
        {
            var name = names.TryGetValue(e.NodeId, out var known) && known.Length > 0 ? $"\tname={known}" : "";
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"node{e.NodeId}{name}\t{e.State.ToString().ToLowerInvariant()}\tkeys={e.Digest.KeyCount}\tsequence={e.Digest.LastSequence}\tdigest={e.Digest.ContentHash:x16}\tmember={(e.InSync ? "yes" : "no")}\tlag={e.Lag}\n");
        }
        var problems = new List<string>();
        if (!entries.Any(e => e.State == NodeState.Serving))
            problems.Add("no node is serving");
        if (entries.Where(e => e.State == NodeState.Serving).Select(e => e.Digest).Distinct().Count() > 1)
            problems.Add("serving replicas differ");
        foreach (var e in entries.Where(e => e.InSync && e.State != NodeState.Serving))
            problems.Add($"in-sync member node{e.NodeId} is {e.State.ToString().ToLowerInvariant()}");
        return new ConsoleReply.Text(text.ToString(), problems.Count == 0 ? 0 : Unhealthy,
            string.Concat(problems.Select(p => $"error: {p}\n")));
    }
}

using System.Globalization;
using KvnDb.Client;

namespace KvnDb.Testing;

/// <summary>
/// The router's <c>info</c> read once into a typed record: <c>name: value</c> lines, then one
/// <c>nodeN: key=value ...</c> line per node. Tests read counters through this, never by searching
/// the text; when the router offers a typed record itself, only this type changes.
/// </summary>
public sealed record RouterInfo(IReadOnlyDictionary<string, string> Fields, IReadOnlyList<RouterNodeInfo> Nodes)
{
    public ulong Sequence => UInt64("sequence");

    public Guid History => Guid.Parse(this["history"], CultureInfo.InvariantCulture);

    public int NodesServing => (int)Int64("nodes_serving");

    public long Clients => Int64("clients");

    public long Reads => Int64("reads");

    public long Writes => Int64("writes");

    public long FullSyncs => Int64("full_syncs");

    public long ReplayedWrites => Int64("replayed_writes");

    public long Pending => Int64("pending");

    public string this[string name] =>
        Fields.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"no '{name}' in info: {string.Join(", ", Fields.Keys)}");

    public long Int64(string name) => long.Parse(this[name], CultureInfo.InvariantCulture);

    public ulong UInt64(string name) => ulong.Parse(this[name], CultureInfo.InvariantCulture);

    public static async Task<RouterInfo> ReadAsync(KvnDbClient client) =>
        Parse(await client.InfoAsync().WaitAsync(TestCluster.Timeout).ConfigureAwait(false));

    public static RouterInfo Parse(string text)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var nodes = new List<RouterNodeInfo>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon <= 0)
                continue;
            var name = line[..colon];
            var value = line[(colon + 2)..];
            if (name.StartsWith("node", StringComparison.Ordinal) && int.TryParse(name.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                nodes.Add(RouterNodeInfo.Parse(id, value));
            else
                fields.TryAdd(name, value);
        }
        return new RouterInfo(fields, nodes);
    }
}

using System.Globalization;
using System.Text;

namespace KvnDb.Client;

/// <summary>
/// The router's <c>info</c> read once into a typed record: <c>name: value</c> lines, then one
/// <c>nodeN: key=value ...</c> line per node. The console, the bench and the tests read it through
/// this type, never by searching the text; when the wire carries a typed record, only this changes.
/// </summary>
public sealed record RouterInfo(IReadOnlyDictionary<string, string> Fields, IReadOnlyList<RouterNodeInfo> Nodes)
{
    public ulong Sequence => GetUInt64("sequence");

    public Guid History => Guid.Parse(this["history"], CultureInfo.InvariantCulture);

    public int NodesServing => (int)GetInt64("nodes_serving");

    public long Clients => GetInt64("clients");

    public long Reads => GetInt64("reads");

    public long Writes => GetInt64("writes");

    public long FullSyncs => GetInt64("full_syncs");

    public long ReplayedWrites => GetInt64("replayed_writes");

    public long Pending => GetInt64("pending");

    /// <summary>Numbers of the nodes in the durable in-sync set.</summary>
    public IReadOnlyList<int> InSync => List("in_sync");

    /// <summary>In-sync members not connected and serving.</summary>
    public IReadOnlyList<int> InSyncMissing => List("in_sync_missing");

    /// <summary>Why the router refuses reads and writes, or empty.</summary>
    public string Unavailable => Fields.TryGetValue("unavailable", out var reason) ? reason : "";

    /// <summary>Largest key + value a write may carry: the smallest limit of any connected node or in-sync member.</summary>
    public long RecordLimit => GetInt64("record_limit");

    public long AllocatedBytes => GetInt64("allocated_bytes");

    /// <summary>Writes nodes failed to apply (each took its node out of the in-sync set).</summary>
    public long NodeApplyFailures => GetInt64("node_apply_failures");

    /// <summary>Why node <paramref name="number"/> left, with its last storage status, while it is not back in sync; null otherwise.</summary>
    public string? Departure(int number) => Fields.TryGetValue($"node{number}_left", out var text) ? text : null;

    /// <summary>The storage error node <paramref name="number"/> reports while connected (its disk refuses writes, a checkpoint failed); null when none.</summary>
    public string? StorageError(int number) => Fields.TryGetValue($"node{number}_storage_error", out var text) ? text : null;

    /// <summary>Gen 0, 1 and 2 collection counts of the router process.</summary>
    public (long Gen0, long Gen1, long Gen2) GcCollections
    {
        get
        {
            var parts = this["gc_collections"].Split('/');
            return (long.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture), long.Parse(parts[2], CultureInfo.InvariantCulture));
        }
    }

    private int[] List(string name) =>
        Fields.TryGetValue(name, out var value) && value.Length > 0
            ? [.. value.Split(',').Select(n => int.Parse(n, CultureInfo.InvariantCulture))]
            : [];

    public string this[string name] =>
        Fields.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"no '{name}' in info: {string.Join(", ", Fields.Keys)}");

    public long GetInt64(string name) => long.Parse(this[name], CultureInfo.InvariantCulture);

    public ulong GetUInt64(string name) => ulong.Parse(this[name], CultureInfo.InvariantCulture);

    /// <summary>Connected nodes (serving or not).</summary>
    public int NodeCount => (int)GetInt64("nodes");

    /// <summary>The text again, as the router wrote it: the fields in their order, then one line per node.</summary>
    public string ToText()
    {
        var text = new StringBuilder();
        foreach (var (name, value) in Fields)
            text.Append(name).Append(": ").Append(value).Append('\n'); // "name: " for an empty value, as the router writes it
        foreach (var node in Nodes)
            text.Append(node.ToText()).Append('\n');
        return text.ToString();
    }

    /// <summary>Asks the router for its <c>info</c> and reads it.</summary>
    public static async Task<RouterInfo> ReadAsync(KvnDbClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        return Parse(await client.InfoAsync(cancellationToken).ConfigureAwait(false));
    }

    public static RouterInfo Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var fields = new OrderedDictionary<string, string>(StringComparer.Ordinal);
        var nodes = new List<RouterNodeInfo>();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            // "name: value", or "name:" when the value is empty (the line is trimmed).
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
                continue;
            var name = line[..colon];
            var value = line[(colon + 1)..].TrimStart();
            if (name.StartsWith("node", StringComparison.Ordinal) && int.TryParse(name.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                nodes.Add(RouterNodeInfo.Parse(id, value));
            else
                fields.TryAdd(name, value);
        }
        return new RouterInfo(fields, nodes);
    }
}

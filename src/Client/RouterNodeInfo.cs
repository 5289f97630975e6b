using System.Globalization;

namespace KvnDb.Client;

/// <summary>One node's line of the router's <c>info</c>: <c>key=value</c> pairs.</summary>
public sealed record RouterNodeInfo(int Id, IReadOnlyDictionary<string, string> Fields)
{
    public string State => this["state"];

    /// <summary>The node's address as the router sees it (<c>host:port</c>).</summary>
    public string Address => this["address"];

    /// <summary>The last sequence the node reported in its hello (what it recovered).</summary>
    public ulong HelloSequence => ulong.Parse(this["hello_sequence"], CultureInfo.InvariantCulture);

    /// <summary>The largest key + value the node said at hello its store can hold.</summary>
    public long MaxRecord => long.Parse(this["max_record"], CultureInfo.InvariantCulture);

    /// <summary>What the node's last storage report said: <c>ok</c>, <c>refusing_writes</c>, or <c>unknown</c> before its first report.</summary>
    public string Storage => Fields.TryGetValue("storage", out var storage) ? storage : "unknown";

    /// <summary>How its last checkpoint went: <c>none</c> (none yet, or an engine without checkpoints), <c>ok</c> or <c>failed</c>.</summary>
    public string Checkpoint => Fields.TryGetValue("checkpoint", out var checkpoint) ? checkpoint : "none";

    /// <summary>Milliseconds since its last successful checkpoint; null before the first.</summary>
    public long? CheckpointAgeMs => Fields.TryGetValue("checkpoint_age_ms", out var age) && long.TryParse(age, NumberStyles.None, CultureInfo.InvariantCulture, out var ms) ? ms : null;

    /// <summary>Free bytes of the file system of its data folder; null when unknown (no data folder).</summary>
    public long? FreeBytes => Fields.TryGetValue("free_bytes", out var free) && long.TryParse(free, NumberStyles.None, CultureInfo.InvariantCulture, out var bytes) ? bytes : null;

    public string this[string name] =>
        Fields.TryGetValue(name, out var value) ? value : throw new KeyNotFoundException($"no '{name}' in node{Id}'s info: {string.Join(", ", Fields.Keys)}");

    /// <summary>The line again: <c>nodeN: key=value ...</c>, the pairs in their order.</summary>
    public string ToText() =>
        string.Create(CultureInfo.InvariantCulture, $"node{Id}: {string.Join(' ', Fields.Select(f => $"{f.Key}={f.Value}"))}");

    public static RouterNodeInfo Parse(int id, string pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var fields = new OrderedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
                fields.TryAdd(pair[..equals], pair[(equals + 1)..]);
        }
        return new RouterNodeInfo(id, fields);
    }
}

// Cluster health check: prints each node's state and content digest and exits non-zero when the
// cluster is not healthy, for cron jobs and monitors.
//
//   kvndb-script samples/health.csx --port 54565 -- [--min-nodes 1] [--probe yes]
//
// Unhealthy (exit code 2) when: fewer than --min-nodes nodes are connected, a node is not serving
// (syncing or gone), or serving replicas disagree: the router's digest operation (Kv.DigestAsync) asks
// every node for its key count, last sequence and an order-independent hash of its content, all taken
// at the same point of the write stream, so equal replicas report equal digests even under load.
// --probe yes also writes, reads back and deletes a key under "__kvndb_health/" with write concern
// all, so every node must take it. Addresses and router counters come from the info text.
#nullable enable
#load "include/options.csx"

var options = new SampleArgs(Args);
var minNodes = options.GetInt("min-nodes", 1);
var probe = options.Get("probe", "no") is "yes" or "true";

var rtt = await Kv.PingAsync(Cancellation);
var info = await Kv.InfoAsync(Cancellation);
var digests = await Kv.DigestAsync(Cancellation);

// Info text: "name: value" lines, then "node3: address=127.0.0.1:5000 state=serving ..." per node.
var fields = new Dictionary<string, string>(StringComparer.Ordinal);
var addresses = new Dictionary<string, string>(StringComparer.Ordinal);
foreach (var line in info.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
{
    var colon = line.IndexOf(':');
    if (colon <= 0)
        continue;
    var name = line[..colon];
    var rest = line[(colon + 1)..].Trim();
    var address = rest.Split(' ').FirstOrDefault(p => p.StartsWith("address=", StringComparison.Ordinal));
    if (name.StartsWith("node", StringComparison.Ordinal) && address is not null)
        addresses[name] = address["address=".Length..];
    else
        fields[name] = rest;
}

var problems = new List<string>();
Console.WriteLine($"router {Kv.Options.Host}:{Kv.Options.Port}  version {fields.GetValueOrDefault("version", "?")}  " +
    $"sequence {fields.GetValueOrDefault("sequence", "?")}  ping {rtt.TotalMilliseconds:F2} ms");
foreach (var node in digests.OrderBy(d => d.NodeId))
{
    var name = $"node{node.NodeId}";
    var state = node.State.ToString().ToLowerInvariant();
    Console.WriteLine($"  {name,-8} {state,-8} {addresses.GetValueOrDefault(name, "?"),-22} keys {node.Digest.KeyCount,10}  " +
        $"sequence {node.Digest.LastSequence,10}  digest {node.Digest.ContentHash:x16}");
    if (node.State != NodeState.Serving)
        problems.Add($"{name} is {state}");
}
if (digests.Count < minNodes)
    problems.Add($"{digests.Count} node(s) connected, at least {minNodes} wanted");
var serving = digests.Where(d => d.State == NodeState.Serving).ToList();
if (serving.Select(d => (d.Digest.KeyCount, d.Digest.ContentHash)).Distinct().Count() > 1)
    problems.Add("serving replicas disagree: " + string.Join(", ", serving.Select(d => $"node{d.NodeId}={d.Digest.KeyCount} keys/{d.Digest.ContentHash:x16}")));

if (probe && digests.Count > 0)
{
    var key = $"__kvndb_health/{Environment.MachineName}/{Guid.NewGuid():N}";
    var value = DateTime.UtcNow.ToString("O");
    try
    {
        await Kv.SetAsync(key, value, WriteConcern.All, Cancellation);
        var read = await Kv.GetStringAsync(key, Cancellation);
        if (read != value)
            problems.Add($"probe: wrote '{value}' to {key}, read back '{read ?? "(missing)"}'");
        await Kv.DeleteAsync(key, WriteConcern.All, Cancellation);
        Console.WriteLine("  probe    write/read/delete ok");
    }
    catch (KvnDbException ex)
    {
        problems.Add($"probe failed: {ex.Message}");
    }
}

foreach (var problem in problems)
    Console.WriteLine($"PROBLEM: {problem}");
Console.WriteLine(problems.Count == 0 ? "HEALTHY" : "UNHEALTHY");
return problems.Count == 0 ? 0 : 2;

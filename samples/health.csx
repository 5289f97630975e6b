// Cluster health check: prints the router's view of each node and exits non-zero when the cluster is
// not healthy, for cron jobs and monitors.
//
//   kvndb-script samples/health.csx --port 54565 -- [--min-nodes 1] [--probe yes]
//
// Unhealthy (exit code 2) when: fewer than --min-nodes nodes are connected, a node is not serving
// (syncing or gone), or nodes report different digests. --probe yes also writes, reads back and deletes
// a key under "__kvndb_health/" with write concern all, so every node must take it.
//
// Digests: the router's info text has one line per node ("node3: address=... state=serving ..."). When a
// node line carries "digest=<hex>" (the replication work adds it), this check compares the digests of the
// serving nodes; until then it prints "digest n/a" and judges by state alone. To move to a digest operation
// on the client instead, change only DigestOf below.
#nullable enable
#load "include/options.csx"

var options = new SampleArgs(Args);
var minNodes = options.GetInt("min-nodes", 1);
var probe = options.Get("probe", "no") is "yes" or "true";

var rtt = await Kv.PingAsync(Cancellation);
var info = await Kv.InfoAsync(Cancellation);
var fields = new Dictionary<string, string>(StringComparer.Ordinal);
var nodes = new List<Dictionary<string, string>>();
foreach (var line in info.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
{
    var colon = line.IndexOf(':');
    if (colon <= 0)
        continue;
    var name = line[..colon];
    var rest = line[(colon + 1)..].Trim();
    if (name.StartsWith("node", StringComparison.Ordinal) && rest.Contains('='))
    {
        // "node3: address=127.0.0.1:5000 state=serving outstanding=0 ..." -> name/value pairs
        var node = new Dictionary<string, string>(StringComparer.Ordinal) { ["name"] = name };
        foreach (var pair in rest.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq > 0)
                node[pair[..eq]] = pair[(eq + 1)..];
        }
        nodes.Add(node);
    }
    else
    {
        fields[name] = rest;
    }
}

string? DigestOf(Dictionary<string, string> node) => node.GetValueOrDefault("digest");

var problems = new List<string>();
Console.WriteLine($"router {Kv.Options.Host}:{Kv.Options.Port}  version {fields.GetValueOrDefault("version", "?")}  " +
    $"sequence {fields.GetValueOrDefault("sequence", "?")}  ping {rtt.TotalMilliseconds:F2} ms");
foreach (var node in nodes)
{
    var state = node.GetValueOrDefault("state", "?");
    var digest = DigestOf(node);
    Console.WriteLine($"  {node["name"],-8} {state,-8} {node.GetValueOrDefault("address", "?"),-22} digest {digest ?? "n/a"}");
    if (state != "serving")
        problems.Add($"{node["name"]} is {state}");
}
if (nodes.Count < minNodes)
    problems.Add($"{nodes.Count} node(s) connected, at least {minNodes} wanted");
var digests = nodes.Where(n => n.GetValueOrDefault("state") == "serving").Select(DigestOf).OfType<string>().Distinct().ToList();
if (digests.Count > 1)
    problems.Add($"serving nodes disagree: {digests.Count} different digests");

if (probe && nodes.Count > 0)
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

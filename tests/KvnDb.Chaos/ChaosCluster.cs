using System.Diagnostics;
using System.Globalization;
using KvnDb.Client;
using KvnDb.Testing;

namespace KvnDb.Chaos;

/// <summary>
/// The router and the nodes as child processes, each node's link through its own <see cref="LinkRelay"/>, and
/// one client connected straight to the router. The router keeps its port across restarts (nodes and client
/// come back to it) and its metadata in the work directory. With <see cref="ChaosOptions.Routers"/> above 1 the
/// routers form a router group (each on fixed client and Raft ports); nodes and the client are given every router and
/// link to the leader (no relays: a redirect names the leader's own port), so <see cref="Router"/> is whichever leads.
/// </summary>
internal sealed class ChaosCluster : IAsyncDisposable
{
    private readonly ChaosOptions _options;

    public ChaosCluster(ChaosOptions options)
    {
        _options = options;
        var work = options.WorkDirectory;
        var ports = Enumerable.Range(0, options.Routers).Select(_ => (Client: ChildProcess.FreePort(), Raft: ChildProcess.FreePort())).ToArray();
        Port = ports[0].Client;
        RouterPorts = [.. ports.Select(p => p.Client)];
        for (var r = 0; r < options.Routers; r++)
        {
            List<string> arguments =
            [
                "--port", Text(ports[r].Client), "--backlog", "1m", "--data", Path.Combine(work, options.Routers == 1 ? "router" : $"router{r}"),
                "--node-timeout", Text(options.NodeTimeout.TotalSeconds), "--node-evict", Text(options.NodeEvict.TotalSeconds),
                "--join-grace", Text(options.JoinGrace.TotalSeconds),
            ];
            if (IsGroup)
            {
                arguments.AddRange(["--raft-port", Text(ports[r].Raft), "--peers", string.Join(",", ports.Select(p => $"127.0.0.1:{p.Raft}")),
                    "--election-timeout", Text(options.ElectionTimeout.TotalMilliseconds)]);
            }
            Routers.Add(new ManagedProcess(options.Routers == 1 ? "router" : $"router{r}", ProgramPaths.Executable("Router", "kvndb-router"), arguments,
                Path.Combine(work, options.Routers == 1 ? "router.log" : $"router{r}.log")));
        }
        for (var i = 0; i < options.Nodes; i++)
        {
            string[] link;
            if (IsGroup)
            {
                link = ["--routers", string.Join(",", RouterPorts.Select(p => $"127.0.0.1:{p}"))];
            }
            else
            {
                var relay = new LinkRelay($"node{i}", Port);
                Relays.Add(relay);
                link = ["--port", Text(relay.Port)];
            }
            Nodes.Add(new ManagedProcess($"node{i}", ProgramPaths.Executable("NodeHost", "kvndb-node"),
                [.. link, "--engine", options.Engine, "--data", Path.Combine(work, $"node{i}"),
                 "--router-timeout", Text(options.RouterTimeout.TotalSeconds), "--connect-timeout", Text(options.RouterTimeout.TotalSeconds)],
                Path.Combine(work, $"node{i}.log")));
        }
    }

    /// <summary>Fixed for the run: a restarted router must come back where the relays and the client look (the first router's in a group).</summary>
    public int Port { get; }

    /// <summary>Every router's client port (one, or the group's).</summary>
    public IReadOnlyList<int> RouterPorts { get; }

    public bool IsGroup => _options.Routers > 1;

    public List<ManagedProcess> Routers { get; } = [];

    /// <summary>The single router, or the group's leader: the router whose info says it leads (waited for while the group elects one).</summary>
    public async Task<ManagedProcess> LeaderAsync(TimeSpan timeout)
    {
        if (!IsGroup)
            return Routers[0];
        var index = -1;
        try
        {
            await Eventually.WaitAsync(async () =>
            {
                var info = await TryInfoAsync();
                if (info is null || !info.Fields.TryGetValue("router_role", out var role) || role != "leader")
                    return false;
                var self = info["router_self"];
                index = RouterPorts.ToList().IndexOf(int.Parse(self[(self.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture));
                return index >= 0;
            }, timeout);
        }
        catch (TimeoutException)
        {
            throw new ChaosFailureException($"no router of the group leads after {timeout.TotalSeconds:0} s: {await DescribeAsync()}");
        }
        return Routers[index];
    }

    public List<ManagedProcess> Nodes { get; } = [];

    public List<LinkRelay> Relays { get; } = [];

    public KvnDbClient Client { get; private set; } = null!;

    public async Task StartAsync()
    {
        foreach (var router in Routers)
            router.Start();
        foreach (var relay in Relays)
            relay.Start();
        foreach (var node in Nodes)
            node.Start();
        var clientOptions = new KvnDbClientOptions
        {
            Port = Port,
            Routers = IsGroup ? [.. RouterPorts.Select(p => $"127.0.0.1:{p}")] : [],
            RequestTimeout = _options.RequestTimeout,
            ConnectTimeout = TimeSpan.FromSeconds(3),
            ReconnectMinDelay = IsGroup ? TimeSpan.FromMilliseconds(20) : new KvnDbClientOptions().ReconnectMinDelay,
            ReconnectMaxDelay = IsGroup ? TimeSpan.FromMilliseconds(500) : new KvnDbClientOptions().ReconnectMaxDelay,
        };
        Client = await Eventually.SucceedsAsync<KvnDbConnectionException, KvnDbClient>(() => KvnDbClient.ConnectAsync(clientOptions), TimeSpan.FromSeconds(30));
    }

    /// <summary>The router's info, or null while it cannot answer (down, frozen, restarting).</summary>
    public async Task<RouterInfo?> TryInfoAsync()
    {
        try
        {
            return RouterInfo.Parse(await Client.InfoAsync());
        }
        catch (KvnDbException)
        {
            return null;
        }
    }

    /// <summary>Waits until <paramref name="count"/> nodes serve (null: all); returns how long it took, or null after <paramref name="timeout"/>.</summary>
    public async Task<TimeSpan?> WaitForServingAsync(TimeSpan timeout, int? count = null, CancellationToken stop = default)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            await Eventually.WaitAsync(async () => stop.IsCancellationRequested || (await TryInfoAsync())?.NodesServing >= (count ?? Nodes.Count), timeout);
            return clock.Elapsed;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private static readonly string[] DescribedFields = ["adopted", "in_sync", "in_sync_missing", "nodes_serving", "router_self", "router_term"];

    /// <summary>One line per node of the router's view, for a failure message.</summary>
    public async Task<string> DescribeAsync()
    {
        var info = await TryInfoAsync();
        if (info is null)
            return "router does not answer info";
        var fields = string.Join(' ', DescribedFields
            .Select(f => $"{f}={(info.Fields.TryGetValue(f, out var v) ? v : "?")}"));
        return string.Join("; ", [fields, .. info.Nodes.Select(n => $"node{n.Id} {string.Join(' ', n.Fields.Where(f => f.Key is "state" or "in_sync" or "joined" or "acked" or "lag" or "id").Select(f => $"{f.Key}={f.Value}"))}")]);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var relay in Relays)
            relay.Heal();
        foreach (var router in Routers)
            await router.KillAsync();
        foreach (var node in Nodes)
            await node.KillAsync();
        if (Client is not null)
            await Client.DisposeAsync();
        foreach (var relay in Relays)
            await relay.DisposeAsync();
    }

    private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);
}

using System.Diagnostics;
using System.Globalization;
using KvnDb.Client;
using KvnDb.Testing;

namespace KvnDb.Chaos;

/// <summary>
/// The router and the nodes as child processes, each node's link through its own <see cref="LinkRelay"/>, and
/// one client connected straight to the router. The router keeps its port across restarts (nodes and client
/// come back to it) and its metadata in the work directory.
/// </summary>
internal sealed class ChaosCluster : IAsyncDisposable
{
    private readonly ChaosOptions _options;

    public ChaosCluster(ChaosOptions options)
    {
        _options = options;
        Port = ChildProcess.FreePort();
        var work = options.WorkDirectory;
        Router = new ManagedProcess("router", ProgramPaths.Executable("Router", "kvndb-router"),
            ["--port", Text(Port), "--backlog", "1m", "--data", Path.Combine(work, "router"),
             "--node-timeout", Text(options.NodeTimeout.TotalSeconds), "--node-evict", Text(options.NodeEvict.TotalSeconds)],
            Path.Combine(work, "router.log"));
        for (var i = 0; i < options.Nodes; i++)
        {
            var relay = new LinkRelay($"node{i}", Port);
            Relays.Add(relay);
            Nodes.Add(new ManagedProcess($"node{i}", ProgramPaths.Executable("NodeHost", "kvndb-node"),
                ["--port", Text(relay.Port), "--engine", options.Engine, "--data", Path.Combine(work, $"node{i}"),
                 "--router-timeout", Text(options.RouterTimeout.TotalSeconds), "--connect-timeout", Text(options.RouterTimeout.TotalSeconds)],
                Path.Combine(work, $"node{i}.log")));
        }
    }

    /// <summary>Fixed for the run: a restarted router must come back where the relays and the client look.</summary>
    public int Port { get; }

    public ManagedProcess Router { get; }

    public List<ManagedProcess> Nodes { get; } = [];

    public List<LinkRelay> Relays { get; } = [];

    public KvnDbClient Client { get; private set; } = null!;

    public async Task StartAsync()
    {
        Router.Start();
        foreach (var relay in Relays)
            relay.Start();
        foreach (var node in Nodes)
            node.Start();
        var clientOptions = new KvnDbClientOptions { Port = Port, RequestTimeout = _options.RequestTimeout, ConnectTimeout = TimeSpan.FromSeconds(3) };
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

    private static readonly string[] DescribedFields = ["adopted", "in_sync", "in_sync_missing", "nodes_serving"];

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
        await Router.KillAsync();
        foreach (var node in Nodes)
            await node.KillAsync();
        if (Client is not null)
            await Client.DisposeAsync();
        foreach (var relay in Relays)
            await relay.DisposeAsync();
    }

    private static string Text(double value) => value.ToString(CultureInfo.InvariantCulture);
}

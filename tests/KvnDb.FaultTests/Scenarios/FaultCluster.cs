using System.Globalization;
using System.Net;
using KvnDb.Client;
using KvnDb.FaultTests.Network;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>
/// A router and three <c>faster</c> nodes as real processes, each on its own host of a
/// <see cref="NetworkLab"/>, plus two client hosts: <c>client</c> (the workload's connections; its link
/// may be cut) and <c>probe</c> (the test's own view of the router: never cut). In-process clients
/// reach the router through a relay whose outgoing sockets live in the client host's namespace, so
/// their traffic crosses that host's link. With a link delay, every node connects to the router
/// through a delaying relay on the router host.
/// </summary>
internal sealed class FaultCluster : IAsyncDisposable
{
    public const int RouterPort = 7100;
    public const int DelayedRouterPort = 7200;
    public const string Password = "fault-tests";

    /// <summary>The nodes' own credential (a client password cannot register a node).</summary>
    public const string NodePassword = "fault-tests-nodes";
    public const int NodeCount = 3;
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(90);

    private readonly Dictionary<NetHost, TcpRelay> _clientRelays = [];
    private readonly SemaphoreSlim _relayGate = new(1, 1);
    private readonly TimeSpan _nodeLinkDelay;
    private TcpRelay? _delayRelay;

    private FaultCluster(NetworkLab lab, TimeSpan nodeLinkDelay)
    {
        Lab = lab;
        _nodeLinkDelay = nodeLinkDelay;
    }

    public NetworkLab Lab { get; }

    public NetHost RouterHost => Lab["router"];

    public IReadOnlyList<NetHost> NodeHosts => [.. Enumerable.Range(1, NodeCount).Select(i => Lab[$"node{i}"])];

    public NetHost ClientHost => Lab["client"];

    public NetHost ProbeHost => Lab["probe"];

    public LabProcess? Router { get; private set; }

    public LabProcess?[] Nodes { get; } = new LabProcess?[NodeCount];

    public ClusterProbe Probe { get; private set; } = null!;

    public string RouterDataDirectory => Path.Combine(Lab.Directory, "router-data");

    public string NodeDataDirectory(int node) => Path.Combine(Lab.Directory, $"node{node}-data");

    /// <summary>Builds the lab, starts the router and the nodes, and waits until all nodes serve.</summary>
    public static async Task<FaultCluster> StartAsync(TimeSpan nodeLinkDelay = default)
    {
        var lab = await NetworkLab.CreateAsync().ConfigureAwait(false);
        var cluster = new FaultCluster(lab, nodeLinkDelay);
        try
        {
            await lab.AddHostAsync("router", 1).ConfigureAwait(false);
            for (var i = 1; i <= NodeCount; i++)
                await lab.AddHostAsync($"node{i}", 10 + i).ConfigureAwait(false);
            await lab.AddHostAsync("client", 21).ConfigureAwait(false);
            await lab.AddHostAsync("probe", 22).ConfigureAwait(false);
            cluster.StartRouter();
            if (nodeLinkDelay > TimeSpan.Zero)
            {
                var router = cluster.RouterHost;
                cluster._delayRelay = TcpRelay.Start(router.NamespaceName, new IPEndPoint(router.Address, DelayedRouterPort),
                    router.NamespaceName, new IPEndPoint(router.Address, RouterPort), nodeLinkDelay);
            }
            cluster.Probe = new ClusterProbe(token => cluster.ConnectAsync(cluster.ProbeHost, TimeSpan.FromSeconds(1), token));
            for (var i = 1; i <= NodeCount; i++)
                cluster.StartNode(i);
            await cluster.Probe.WaitForAsync(s => s.Serving == NodeCount, StartTimeout, $"{NodeCount} serving nodes").ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Starts a router process on the router host (the previous one must be gone).</summary>
    public LabProcess StartRouter()
    {
        string[] arguments =
        [
            "--host", RouterHost.Address.ToString(), "--port", RouterPort.ToString(CultureInfo.InvariantCulture),
            "--password", Password, "--node-password", NodePassword, "--join-grace", "1",
            .. FaultSettings.RouterArguments(RouterDataDirectory),
        ];
        return Router = RouterHost.Start(Router is null ? "router" : $"router-{DateTime.UtcNow:HHmmss.fff}", ProgramPaths.Assembly("Router", "kvndb-router"), arguments);
    }

    /// <summary>Starts node <paramref name="node"/> (1-based) on its host, on its own data folder.</summary>
    public LabProcess StartNode(int node, bool reset = false)
    {
        var port = _nodeLinkDelay > TimeSpan.Zero ? DelayedRouterPort : RouterPort;
        List<string> arguments =
        [
            "--engine", "faster", "--data", NodeDataDirectory(node), "--memory", "32m",
            "--host", RouterHost.Address.ToString(), "--port", port.ToString(CultureInfo.InvariantCulture),
            "--password", NodePassword,
            .. FaultSettings.NodeArguments(),
        ];
        if (reset)
            RequestReset(node);
        var name = Nodes[node - 1] is null ? $"node{node}" : $"node{node}-{DateTime.UtcNow:HHmmss.fff}";
        return Nodes[node - 1] = Lab[$"node{node}"].Start(name, ProgramPaths.Assembly("NodeHost", "kvndb-node"), arguments);
    }

    /// <summary>
    /// <c>kvndb-node reset --data DIR</c>, the one-shot reset: the node's next start takes a new identity
    /// and copies everything from a donor. It only writes a marker in the folder, so it needs no namespace.
    /// </summary>
    private void RequestReset(int node)
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])[ProgramPaths.Assembly("NodeHost", "kvndb-node"), "reset", "--data", NodeDataDirectory(node)])
            start.ArgumentList.Add(argument);
        using var process = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("kvndb-node reset did not start");
        var output = process.StandardOutput.ReadToEnd(); // one log line: neither pipe can fill while the other is read
        var errors = process.StandardError.ReadToEnd();
        if (!process.WaitForExit(60_000) || process.ExitCode != 0)
            throw new InvalidOperationException($"kvndb-node reset --data {NodeDataDirectory(node)} failed: {output}{errors}");
    }

    /// <summary>The router host reboots: its process dies, its kernel state (every TCP connection) is gone, a new router starts on the same address.</summary>
    public async Task RestartRouterHostAsync()
    {
        await Lab.RestartHostAsync(RouterHost).ConfigureAwait(false);
        StartRouter();
    }

    /// <summary>A client whose traffic leaves from <paramref name="from"/> (retried until the router answers or the token fires).</summary>
    public async Task<KvnDbClient> ConnectAsync(NetHost from, TimeSpan requestTimeout, CancellationToken cancellationToken = default)
    {
        var relay = await RelayFromAsync(from).ConfigureAwait(false);
        var options = new KvnDbClientOptions
        {
            Host = "127.0.0.1",
            Port = relay.EndPoint.Port,
            Password = Password,
            RequestTimeout = requestTimeout,
            ConnectTimeout = TimeSpan.FromSeconds(2),
        };
        while (true)
        {
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                attempt.CancelAfter(requestTimeout + options.ConnectTimeout);
                return await KvnDbClient.ConnectAsync(options, attempt.Token).WaitAsync(requestTimeout + options.ConnectTimeout + TimeSpan.FromSeconds(1), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is KvnDbException or OperationCanceledException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                // Router not up yet, or the hello got no answer: try again.
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<TcpRelay> RelayFromAsync(NetHost from)
    {
        await _relayGate.WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        try
        {
            if (!_clientRelays.TryGetValue(from, out var relay))
            {
                relay = TcpRelay.Start(null, new IPEndPoint(IPAddress.Loopback, 0), from.NamespaceName, new IPEndPoint(RouterHost.Address, RouterPort));
                _clientRelays.Add(from, relay);
            }
            return relay;
        }
        finally
        {
            _relayGate.Release();
        }
    }

    /// <summary>The last lines of every process's log, for a failure message.</summary>
    public string Diagnostics(int lines = 25)
    {
        var text = new System.Text.StringBuilder();
        foreach (var process in new[] { Router }.Concat(Nodes).OfType<LabProcess>())
            text.Append(CultureInfo.InvariantCulture, $"--- {process.Name} ({process.LogFile}) ---\n{process.Tail(lines)}\n");
        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (Probe is not null)
            await Probe.DisposeAsync().ConfigureAwait(false);
        foreach (var relay in _clientRelays.Values)
            await relay.DisposeAsync().ConfigureAwait(false);
        if (_delayRelay is not null)
            await _delayRelay.DisposeAsync().ConfigureAwait(false);
        await Lab.DisposeAsync().ConfigureAwait(false);
    }
}

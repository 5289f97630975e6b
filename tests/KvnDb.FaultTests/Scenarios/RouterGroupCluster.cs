using System.Globalization;
using System.Text.RegularExpressions;
using KvnDb.Client;
using KvnDb.Protocol;
using KvnDb.FaultTests.Network;

namespace KvnDb.FaultTests.Scenarios;

/// <summary>
/// A router group (issue 17) in a <see cref="NetworkLab"/>: three routers (<c>r1..r3</c>, one Raft group) and three
/// <c>faster</c> nodes (<c>node1..node3</c>, given every router), each on its own host, plus the hosts <c>client</c>
/// (the workload) and <c>probe</c> (the test's own view; never cut). Clients live in the test process with their
/// sockets in a host's namespace (<see cref="KvnDbClientOptions"/>'s socket factory), so they reach every router by
/// its own address and follow redirects as any client does.
/// </summary>
internal sealed partial class RouterGroupCluster : IAsyncDisposable
{
    public const int RouterCount = 3;
    public const int NodeCount = 3;
    public const int RouterPort = 7100;
    public const int RaftPort = 7300;

    /// <summary>The routers' --election-timeout: longer than the default so two loaded cores do not cause elections on their own.</summary>
    public static readonly TimeSpan ElectionTimeout = TimeSpan.FromMilliseconds(1000);

    private readonly TimeSpan? _nodeRouterTimeout;

    private RouterGroupCluster(NetworkLab lab, TimeSpan? nodeRouterTimeout, bool twoGroups)
    {
        Lab = lab;
        _nodeRouterTimeout = nodeRouterTimeout;
        TwoGroups = twoGroups;
    }

    /// <summary>The routers split the slots between replica groups <c>a</c> (node1, node2) and <c>b</c> (node3); else one group holds all.</summary>
    public bool TwoGroups { get; }

    /// <summary>The replica group node <paramref name="index"/> (from 0) joins; null: the default group.</summary>
    public string? GroupOf(int index) => TwoGroups ? (index < 2 ? "a" : "b") : null;

    public NetworkLab Lab { get; }

    public IReadOnlyList<NetHost> RouterHosts => [.. Enumerable.Range(1, RouterCount).Select(i => Lab[$"r{i}"])];

    public IReadOnlyList<NetHost> NodeHosts => [.. Enumerable.Range(1, NodeCount).Select(i => Lab[$"node{i}"])];

    public NetHost ClientHost => Lab["client"];

    public NetHost ProbeHost => Lab["probe"];

    public LabProcess?[] Routers { get; } = new LabProcess?[RouterCount];

    public LabProcess?[] Nodes { get; } = new LabProcess?[NodeCount];

    public ClusterProbe Probe { get; private set; } = null!;

    /// <summary>Every router's client address (host:port), as <c>--routers</c> takes them.</summary>
    public IReadOnlyList<string> RouterAddresses => [.. RouterHosts.Select(h => $"{h.Address}:{RouterPort}")];

    /// <summary>Builds the lab and starts the group and the nodes; <paramref name="nodeRouterTimeout"/> is the nodes' --router-timeout (null: the fault tests' usual).</summary>
    public static async Task<RouterGroupCluster> StartAsync(TimeSpan? nodeRouterTimeout = null, bool twoGroups = false)
    {
        var lab = await NetworkLab.CreateAsync().ConfigureAwait(false);
        var cluster = new RouterGroupCluster(lab, nodeRouterTimeout, twoGroups);
        try
        {
            for (var i = 1; i <= RouterCount; i++)
                await lab.AddHostAsync($"r{i}", i).ConfigureAwait(false);
            for (var i = 1; i <= NodeCount; i++)
                await lab.AddHostAsync($"node{i}", 10 + i).ConfigureAwait(false);
            await lab.AddHostAsync("client", 21).ConfigureAwait(false);
            await lab.AddHostAsync("probe", 22).ConfigureAwait(false);
            for (var i = 0; i < RouterCount; i++)
                cluster.StartRouter(i);
            cluster.Probe = new ClusterProbe(token => cluster.ConnectAsync(cluster.ProbeHost, TimeSpan.FromSeconds(1), 0, token: token));
            for (var i = 0; i < NodeCount; i++)
                cluster.StartNode(i);
            await cluster.Probe.WaitForAsync(s => s.Serving == NodeCount, FaultCluster.StartTimeout, $"{NodeCount} serving nodes").ConfigureAwait(false);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public LabProcess StartRouter(int index)
    {
        var host = RouterHosts[index];
        string[] arguments =
        [
            "--host", host.Address.ToString(), "--port", RouterPort.ToString(CultureInfo.InvariantCulture),
            "--raft-port", RaftPort.ToString(CultureInfo.InvariantCulture),
            "--peers", string.Join(",", RouterHosts.Select(h => $"{h.Address}:{RaftPort}")),
            "--election-timeout", ElectionTimeout.TotalMilliseconds.ToString(CultureInfo.InvariantCulture),
            "--password", FaultCluster.Password, "--node-password", FaultCluster.NodePassword, "--join-grace", "1",
            .. FaultSettings.RouterArguments(Path.Combine(Lab.Directory, $"r{index + 1}-data")),
            .. TwoGroups ? (string[])["--groups", "a,b"] : [],
        ];
        var name = Routers[index] is null ? $"r{index + 1}" : $"r{index + 1}-{DateTime.UtcNow:HHmmss.fff}";
        return Routers[index] = host.Start(name, ProgramPaths.Assembly("Router", "kvndb-router"), arguments);
    }

    public LabProcess StartNode(int index)
    {
        List<string> arguments =
        [
            "--engine", "faster", "--data", Path.Combine(Lab.Directory, $"node{index + 1}-data"), "--memory", "32m",
            "--routers", string.Join(",", RouterAddresses), "--password", FaultCluster.NodePassword,
            .. FaultSettings.NodeArguments(),
        ];
        if (GroupOf(index) is { } group)
            arguments.AddRange(["--group", group]);
        if (_nodeRouterTimeout is { } routerTimeout)
        {
            var at = arguments.IndexOf("--router-timeout");
            var seconds = routerTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture);
            if (at >= 0)
                arguments[at + 1] = seconds;
            else
                arguments.AddRange(["--router-timeout", seconds]);
        }
        var name = Nodes[index] is null ? $"node{index + 1}" : $"node{index + 1}-{DateTime.UtcNow:HHmmss.fff}";
        return Nodes[index] = NodeHosts[index].Start(name, ProgramPaths.Assembly("NodeHost", "kvndb-node"), arguments);
    }

    public int IndexOfRouter(string address) => RouterAddresses.ToList().IndexOf(address);

    /// <summary>
    /// A client whose sockets live on <paramref name="from"/>, given every router (its list starts at router
    /// <paramref name="first"/>, so clients spread over the routers and get redirected); retried until one takes it.
    /// </summary>
    public async Task<KvnDbClient> ConnectAsync(NetHost from, TimeSpan requestTimeout, int first, WriteConcern concern = WriteConcern.All,
        TimeSpan? routerTimeout = null, CancellationToken token = default)
    {
        var routers = RouterAddresses;
        var options = new KvnDbClientOptions
        {
            Routers = [.. Enumerable.Range(0, routers.Count).Select(i => routers[(first + i) % routers.Count])],
            Password = FaultCluster.Password,
            RequestTimeout = requestTimeout,
            ConnectTimeout = TimeSpan.FromSeconds(2),
            ReconnectMinDelay = TimeSpan.FromMilliseconds(50),
            ReconnectMaxDelay = TimeSpan.FromMilliseconds(500),
            WriteConcern = concern,
            RouterTimeout = routerTimeout ?? new KvnDbClientOptions().RouterTimeout,
            SocketFactory = () => NamespaceSockets.CreateTcp(from.NamespaceName),
        };
        while (true)
        {
            var before = Routers.Select(r => (Process: r, Lines: r?.LinesPrinted ?? 0)).ToArray();
            try
            {
                using var attempt = CancellationTokenSource.CreateLinkedTokenSource(token);
                attempt.CancelAfter(ConnectAttemptTimeout);
                return await KvnDbClient.ConnectAsync(options, attempt.Token).WaitAsync(ConnectAttemptTimeout + TimeSpan.FromSeconds(1), token).ConfigureAwait(false);
            }
            catch (KvnDbException) when (!token.IsCancellationRequested)
            {
                // Every router refused or redirected to no leader it could reach: an election is under way (or a leader's
                // host is not up yet). The answer changes when a router's active host takes the ports after this attempt began.
                await WaitForActiveHostAsync(before, token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or TimeoutException && !token.IsCancellationRequested)
            {
                // The hello got no answer in time (two loaded cores): the attempt took its time already; try again.
            }
        }
    }

    private static readonly TimeSpan ConnectAttemptTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Waits until one of the routers prints that its active host took the ports, in a line after the positions
    /// <paramref name="after"/> (each router's <see cref="LabProcess.LinesPrinted"/> when the attempt began); returns after <see cref="ConnectAttemptTimeout"/>
    /// without one (a leader that was already up but did not take the client: the next attempt tells).
    /// </summary>
    private async Task WaitForActiveHostAsync((LabProcess? Process, long Lines)[] after, CancellationToken token)
    {
        // A router restarted since (another process) counts from its first line.
        var waits = Routers.Select((r, i) => r?.WaitForOutputAsync(ActiveHostLine(), _ => true, ConnectAttemptTimeout, r == after[i].Process ? after[i].Lines : 0))
            .OfType<Task<Match>>().ToList();
        while (waits.Count > 0)
        {
            var done = await Task.WhenAny(waits).WaitAsync(token).ConfigureAwait(false);
            if (done.IsCompletedSuccessfully)
                return;
            waits.Remove(done); // that router exited, or printed nothing in time
        }
    }

    [GeneratedRegex(@"Router group: active host \(term \d+\) on the ports")]
    private static partial Regex ActiveHostLine();

    /// <summary>Waits for router <paramref name="index"/> to log that it leads a term above <paramref name="above"/>; returns that term.</summary>
    public async Task<long> WaitForLeadingAsync(int index, long above, TimeSpan timeout)
    {
        var match = await Routers[index]!.WaitForOutputAsync(LeadsLine(), m => Term(m) > above, timeout).ConfigureAwait(false);
        return Term(match);
    }

    /// <summary>Waits for router <paramref name="index"/> to log that it stepped down from term <paramref name="term"/>.</summary>
    public Task WaitForStepDownAsync(int index, long term, TimeSpan timeout) =>
        Routers[index]!.WaitForOutputAsync(SteppedDownLine(), m => Term(m) == term, timeout);

    private static long Term(Match match) => long.Parse(match.Groups["term"].ValueSpan, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"this router leads term (?<term>\d+) and is the active router")]
    private static partial Regex LeadsLine();

    [GeneratedRegex(@"this router stepped down after leading term (?<term>\d+)")]
    private static partial Regex SteppedDownLine();

    public string Diagnostics(int lines = 30)
    {
        var text = new System.Text.StringBuilder();
        foreach (var process in Routers.Concat(Nodes).OfType<LabProcess>())
            text.Append(CultureInfo.InvariantCulture, $"--- {process.Name} ({process.LogFile}) ---\n{process.Tail(lines)}\n");
        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        if (Probe is not null)
            await Probe.DisposeAsync().ConfigureAwait(false);
        await Lab.DisposeAsync().ConfigureAwait(false);
    }
}

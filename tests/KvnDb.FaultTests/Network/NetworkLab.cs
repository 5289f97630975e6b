using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace KvnDb.FaultTests.Network;

/// <summary>
/// A private network for one test: a switch namespace holding a bridge, and one namespace per
/// simulated host, each wired to the bridge by a veth pair and given an address on the lab's subnet.
/// Everything lives in namespaces this lab made (the test's own namespace is never touched), so labs
/// of concurrent runs never see each other even on the same subnet. Faults: <see cref="CutAsync"/>
/// and <see cref="HealAsync"/> (nft DROP on the bridge, both ways), <see cref="CutBetweenAsync"/> (between
/// chosen hosts only: a partition), <see cref="RestartHostAsync"/>
/// (a new namespace: the host's kernel TCP state is gone, as after a reboot); processes are frozen,
/// killed and restarted through <see cref="LabProcess"/>. Disposing kills every process the lab
/// started and deletes its namespaces; <see cref="UnavailableReasonAsync"/> also removes what a
/// crashed earlier run left behind.
/// </summary>
public sealed partial class NetworkLab : IAsyncDisposable
{
    /// <summary>Every namespace the labs create starts with this, then the test process id.</summary>
    public const string NamespacePrefix = "kft-";

    private const string Bridge = "br0";
    private static readonly string RootDirectory = Path.Combine(Path.GetTempPath(), "kvndb-faults");
    private static readonly Lock ProbeLock = new();
    private static Task<string?>? _availability;
    private static int _labs;

    private readonly string _subnet;
    private readonly Dictionary<string, NetHost> _hosts = [];
    private readonly List<TrackedProcess> _processes = [];
    private readonly HashSet<(NetHost From, NetHost To)> _cutPairs = [];
    private readonly Lock _lock = new();

    private NetworkLab(string id, string subnet)
    {
        Id = id;
        _subnet = subnet;
        Directory = Path.Combine(RootDirectory, id);
    }

    /// <summary>Unique to this lab: the prefix of its namespaces and the name of its folder.</summary>
    public string Id { get; }

    /// <summary>A fresh folder for this lab's data and logs, deleted with it.</summary>
    public string Directory { get; }

    private string SwitchNamespace => Id + "-sw";

    public IReadOnlyCollection<NetHost> Hosts
    {
        get
        {
            lock (_lock)
                return [.. _hosts.Values];
        }
    }

    public NetHost this[string role]
    {
        get
        {
            lock (_lock)
                return _hosts[role];
        }
    }

    /// <summary>
    /// Null when labs can be built here; otherwise why not (not root, no <c>ip</c> or <c>nft</c>,
    /// namespaces refused), for a test to skip with. The first call removes leftovers of dead runs.
    /// </summary>
    public static Task<string?> UnavailableReasonAsync()
    {
        lock (ProbeLock)
            return _availability ??= Task.Run(ProbeAsync); // probed once per process, off the caller's thread
    }

    /// <summary>Builds the switch of a new lab; hosts are added with <see cref="AddHostAsync"/>.</summary>
    /// <param name="subnet">First three octets of the lab's /24 (private to the lab).</param>
    public static async Task<NetworkLab> CreateAsync(string subnet = "10.250.0")
    {
        var reason = await UnavailableReasonAsync().ConfigureAwait(false);
        if (reason is not null)
            throw new InvalidOperationException(reason);
        var id = string.Create(CultureInfo.InvariantCulture, $"{NamespacePrefix}{Environment.ProcessId}-{Interlocked.Increment(ref _labs)}");
        var lab = new NetworkLab(id, subnet);
        try
        {
            System.IO.Directory.CreateDirectory(lab.Directory);
            await Shell.RunAsync("ip", "netns", "add", lab.SwitchNamespace).ConfigureAwait(false);
            await IpAsync(lab.SwitchNamespace, "link", "set", "lo", "up").ConfigureAwait(false);
            await IpAsync(lab.SwitchNamespace, "link", "add", Bridge, "type", "bridge").ConfigureAwait(false);
            await IpAsync(lab.SwitchNamespace, "link", "set", Bridge, "up").ConfigureAwait(false);
            // One set of cut ports (a frame from or to a port in the set is dropped) and one of cut
            // (from, to) port pairs, for partitions that leave a host's other links alone.
            var rules = Path.Combine(lab.Directory, "cut.nft");
            await File.WriteAllTextAsync(rules, """
                table bridge kft {
                    set cut { type ifname; }
                    set pairs { type ifname . ifname; }
                    chain forward {
                        type filter hook forward priority 0; policy accept;
                        iifname @cut drop
                        oifname @cut drop
                        iifname . oifname @pairs drop
                    }
                }
                """).ConfigureAwait(false);
            await Shell.RunAsync("ip", "netns", "exec", lab.SwitchNamespace, "nft", "-f", rules).ConfigureAwait(false);
            return lab;
        }
        catch
        {
            await lab.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Adds a host named <paramref name="role"/> with address <c>subnet.<paramref name="hostNumber"/></c>.</summary>
    public async Task<NetHost> AddHostAsync(string role, int hostNumber)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(hostNumber, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(hostNumber, 254);
        // Interface names have 15 characters at most; the port lives in the switch namespace only.
        var port = "v" + role;
        if (port.Length > 15 || !ValidRole().IsMatch(role))
            throw new ArgumentException($"role {role} must be a short name of letters and digits", nameof(role));
        var host = new NetHost(this, role, $"{Id}-{role}", port, IPAddress.Parse($"{_subnet}.{hostNumber}"));
        lock (_lock)
            _hosts.Add(role, host);
        await WireAsync(host).ConfigureAwait(false);
        return host;
    }

    private async Task WireAsync(NetHost host)
    {
        await Shell.RunAsync("ip", "netns", "add", host.NamespaceName).ConfigureAwait(false);
        await IpAsync(SwitchNamespace, "link", "add", host.BridgePort, "type", "veth", "peer", "name", "eth0", "netns", host.NamespaceName).ConfigureAwait(false);
        await IpAsync(SwitchNamespace, "link", "set", host.BridgePort, "master", Bridge, "up").ConfigureAwait(false);
        await IpAsync(host.NamespaceName, "link", "set", "lo", "up").ConfigureAwait(false);
        // A fixed MAC per address: a restarted host keeps its NIC, so peers' ARP caches stay right.
        var octets = host.Address.GetAddressBytes();
        var mac = string.Create(CultureInfo.InvariantCulture, $"02:4b:{octets[0]:x2}:{octets[1]:x2}:{octets[2]:x2}:{octets[3]:x2}");
        await IpAsync(host.NamespaceName, "link", "set", "eth0", "address", mac).ConfigureAwait(false);
        await IpAsync(host.NamespaceName, "addr", "add", $"{host.Address}/24", "dev", "eth0").ConfigureAwait(false);
        await IpAsync(host.NamespaceName, "link", "set", "eth0", "up").ConfigureAwait(false);
    }

    /// <summary>Drops every frame from and to these hosts (one atomic change).</summary>
    public async Task CutAsync(params NetHost[] hosts)
    {
        await NftAsync("add", hosts).ConfigureAwait(false);
        foreach (var host in hosts)
            host.IsCut = true;
    }

    /// <summary>Lets these hosts' frames through again.</summary>
    public async Task HealAsync(params NetHost[] hosts)
    {
        await NftAsync("delete", hosts.Where(h => h.IsCut).ToArray()).ConfigureAwait(false);
        foreach (var host in hosts)
            host.IsCut = false;
    }

    /// <summary>
    /// Drops every frame between <paramref name="host"/> and each of <paramref name="others"/>, both ways, in one
    /// atomic change: a partition that leaves every other link of theirs alone.
    /// </summary>
    public async Task CutBetweenAsync(NetHost host, params NetHost[] others)
    {
        string[] pairs;
        lock (_lock)
            pairs = [.. others.SelectMany(o => new[] { (host, o), (o, host) }).Where(_cutPairs.Add).Select(Pair)];
        await PairsAsync("add", pairs).ConfigureAwait(false);
    }

    /// <summary>Lets the frames between <paramref name="host"/> and <paramref name="others"/> through again.</summary>
    public async Task HealBetweenAsync(NetHost host, params NetHost[] others)
    {
        string[] pairs;
        lock (_lock)
            pairs = [.. others.SelectMany(o => new[] { (host, o), (o, host) }).Where(_cutPairs.Remove).Select(Pair)];
        await PairsAsync("delete", pairs).ConfigureAwait(false);
    }

    /// <summary>Lets every cut pair through again.</summary>
    public async Task HealAllPairsAsync()
    {
        string[] pairs;
        lock (_lock)
        {
            pairs = [.. _cutPairs.Select(Pair)];
            _cutPairs.Clear();
        }
        await PairsAsync("delete", pairs).ConfigureAwait(false);
    }

    private static string Pair((NetHost From, NetHost To) pair) => $"\"{pair.From.BridgePort}\" . \"{pair.To.BridgePort}\"";

    private Task PairsAsync(string verb, string[] pairs) => pairs.Length == 0
        ? Task.CompletedTask
        : Shell.RunAsync("ip", "netns", "exec", SwitchNamespace, "nft", verb, "element", "bridge", "kft", "pairs", "{ " + string.Join(", ", pairs) + " }");

    private Task NftAsync(string verb, NetHost[] hosts) => hosts.Length == 0
        ? Task.CompletedTask
        : Shell.RunAsync("ip", "netns", "exec", SwitchNamespace, "nft", verb, "element", "bridge", "kft", "cut",
            "{ " + string.Join(", ", hosts.Select(h => $"\"{h.BridgePort}\"")) + " }");

    /// <summary>
    /// The host "reboots": its processes must be gone (they are killed); its namespace is deleted and
    /// made again with the same address, so peers' connections to it are unknown to its new kernel.
    /// The host keeps its cut state; its files (under <see cref="Directory"/>) survive, as a disk would.
    /// </summary>
    public async Task RestartHostAsync(NetHost host)
    {
        LabProcess[] running;
        lock (_lock)
            running = [.. _processes.Where(p => p.Host == host && !p.Process.HasExited).Select(p => p.Process)];
        foreach (var process in running)
            await process.KillAsync().ConfigureAwait(false);
        await KillNamespaceProcessesAsync(host.NamespaceName).ConfigureAwait(false);
        // Deleting the switch end destroys the pair at once (a namespace is torn down asynchronously).
        await IpAsync(SwitchNamespace, "link", "del", host.BridgePort).ConfigureAwait(false);
        await Shell.RunAsync("ip", "netns", "del", host.NamespaceName).ConfigureAwait(false);
        // The port comes back under the same name, so a cut (matched by name) still holds.
        await WireAsync(host).ConfigureAwait(false);
    }

    internal LabProcess Start(NetHost host, string name, string assembly, IEnumerable<string> arguments)
    {
        var process = LabProcess.Start(name, host.NamespaceName, assembly, arguments, Path.Combine(Directory, "logs", name + ".log"));
        lock (_lock)
            _processes.Add(new TrackedProcess(host, process));
        return process;
    }

    public async ValueTask DisposeAsync()
    {
        TrackedProcess[] processes;
        NetHost[] hosts;
        lock (_lock)
        {
            processes = [.. _processes];
            hosts = [.. _hosts.Values];
        }
        foreach (var tracked in processes)
        {
            try
            {
                await tracked.Process.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is TimeoutException or InvalidOperationException)
            {
                // Whatever survived is killed with its namespace below.
            }
        }
        foreach (var name in hosts.Select(h => h.NamespaceName).Append(SwitchNamespace))
            await DeleteNamespaceAsync(name).ConfigureAwait(false);
        if (Environment.GetEnvironmentVariable("KVNDB_FAULT_KEEP") != "1")
            TryDeleteDirectory(Directory);
    }

    private static async Task DeleteNamespaceAsync(string name)
    {
        await KillNamespaceProcessesAsync(name).ConfigureAwait(false);
        await Shell.TryRunAsync("ip", "netns", "del", name).ConfigureAwait(false);
    }

    private static async Task KillNamespaceProcessesAsync(string name)
    {
        var (exitCode, output, _) = await Shell.TryRunAsync("ip", "netns", "pids", name).ConfigureAwait(false);
        if (exitCode != 0)
            return;
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && pid != Environment.ProcessId)
                _ = Native.kill(pid, 9);
        }
    }

    private static Task<string> IpAsync(string namespaceName, params string[] arguments) => Shell.RunAsync("ip", ["-n", namespaceName, .. arguments]);

    private static async Task<string?> ProbeAsync()
    {
        if (!OperatingSystem.IsLinux())
            return "network namespaces need Linux";
        if (Native.geteuid() != 0)
            return "network fault tests need root (ip netns, veth, nft)";
        if ((await Shell.TryRunAsync("ip", "-V").ConfigureAwait(false)).ExitCode != 0)
            return "network fault tests need `ip` (iproute2)";
        if ((await Shell.TryRunAsync("nft", "--version").ConfigureAwait(false)).ExitCode != 0)
            return "network fault tests need `nft` (apt-get install nftables)";
        await RemoveLeftoversAsync().ConfigureAwait(false);
        var probe = $"{NamespacePrefix}{Environment.ProcessId}-probe";
        try
        {
            var (exitCode, _, error) = await Shell.TryRunAsync("ip", "netns", "add", probe).ConfigureAwait(false);
            if (exitCode != 0)
                return $"cannot create a network namespace: {error.Trim()}";
            (exitCode, _, error) = await Shell.TryRunAsync("ip", "netns", "exec", probe, "nft", "add", "table", "bridge", "kft").ConfigureAwait(false);
            if (exitCode != 0)
                return $"nft cannot add a bridge table in a namespace: {error.Trim()}";
            (exitCode, _, error) = await Shell.TryRunAsync("ip", "-n", probe, "link", "add", "vprobe", "type", "veth", "peer", "name", "eth0").ConfigureAwait(false);
            return exitCode == 0 ? null : $"cannot create a veth pair: {error.Trim()}";
        }
        finally
        {
            await Shell.TryRunAsync("ip", "netns", "del", probe).ConfigureAwait(false);
        }
    }

    /// <summary>Deletes the namespaces and folders of lab runs whose test process is gone, killing what still runs in them.</summary>
    private static async Task RemoveLeftoversAsync()
    {
        var (exitCode, output, _) = await Shell.TryRunAsync("ip", "netns", "list").ConfigureAwait(false);
        if (exitCode == 0)
        {
            foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var name = line.Split(' ', 2)[0];
                if (IsLeftover(name))
                    await DeleteNamespaceAsync(name).ConfigureAwait(false);
            }
        }
        if (System.IO.Directory.Exists(RootDirectory))
        {
            foreach (var folder in System.IO.Directory.GetDirectories(RootDirectory))
            {
                if (IsLeftover(Path.GetFileName(folder)))
                    TryDeleteDirectory(folder);
            }
        }
    }

    private static bool IsLeftover(string name)
    {
        var match = LabName().Match(name);
        if (!match.Success)
            return false;
        var pid = int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture);
        return pid != Environment.ProcessId && !System.IO.Directory.Exists($"/proc/{pid}");
    }

    private static void TryDeleteDirectory(string path)
    {
        try
        {
            if (System.IO.Directory.Exists(path))
                System.IO.Directory.Delete(path, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: the next run's leftover sweep tries again.
        }
    }

    [GeneratedRegex(@"^kft-(\d+)-")]
    private static partial Regex LabName();

    [GeneratedRegex("^[a-z][a-z0-9]*$")]
    private static partial Regex ValidRole();

    private sealed record TrackedProcess(NetHost Host, LabProcess Process);
}

using System.Globalization;
using KvnDb.Client;
using KvnDb.Node;
using KvnDb.Protocol;

namespace KvnDb.IntegrationTests;

/// <summary>
/// A router group of real <c>kvndb-router</c> processes on loopback (issue 17): each on fixed client and Raft ports
/// (a restarted member comes back where the others and the nodes look), with its own data folder.
/// </summary>
internal sealed class RouterGroupProcesses : IAsyncDisposable
{
    private readonly Member[] _members;

    private RouterGroupProcesses(Member[] members) => _members = members;

    public sealed class Member(int port, int raftPort) : IDisposable
    {
        public int Port { get; } = port;

        public int RaftPort { get; } = raftPort;

        /// <summary>A fixed RESP port, kept across restarts (<c>--resp-port</c>; used when the group was launched with RESP).</summary>
        public int RespPort { get; } = ChildProcess.FreePort();

        public TempDirectory Data { get; private set; } = new();

        public ChildProcess? Process { get; set; }

        public string Address => $"127.0.0.1:{Port}";

        /// <summary>An empty data folder from now on (a router that lost its disk).</summary>
        public void WipeData()
        {
            Data.Dispose();
            Data = new TempDirectory();
        }

        public void Dispose() => Data.Dispose();
    }

    public IReadOnlyList<Member> Members => _members;

    /// <summary>Every router's client address, as <c>--routers</c> takes them.</summary>
    public IReadOnlyList<string> Routers => [.. _members.Select(m => m.Address)];

    public KvnDbClientOptions ClientOptions => new()
    {
        Routers = Routers,
        RequestTimeout = TimeSpan.FromSeconds(5),
        ConnectTimeout = TimeSpan.FromSeconds(2),
        ReconnectMinDelay = TimeSpan.FromMilliseconds(20),
        ReconnectMaxDelay = TimeSpan.FromMilliseconds(200),
    };

    public NodeOptions NodeOptions => new()
    {
        Routers = [.. Routers.Select(RouterAddress.Parse)],
        MinReconnectDelay = TimeSpan.FromMilliseconds(20),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
    };

    /// <summary>More arguments for member <c>i</c> at every start (<c>--resp-port</c>, <c>--advertise</c>, <c>--groups</c>); settable between restarts.</summary>
    public Func<Member, IEnumerable<string>> ExtraArguments { get; set; } = _ => [];

    public static RouterGroupProcesses Launch(int count, Func<Member, IEnumerable<string>>? extraArguments = null)
    {
        var members = Enumerable.Range(0, count).Select(_ => new Member(ChildProcess.FreePort(), ChildProcess.FreePort())).ToArray();
        var group = new RouterGroupProcesses(members);
        if (extraArguments is not null)
            group.ExtraArguments = extraArguments;
        for (var i = 0; i < count; i++)
            group.Start(i);
        return group;
    }

    /// <summary>Starts (or restarts) member <paramref name="index"/> with its data folder as it is.</summary>
    public void Start(int index)
    {
        var member = _members[index];
        var peers = string.Join(",", _members.Select(m => $"127.0.0.1:{m.RaftPort}"));
        string[] arguments =
        [
            "--port", member.Port.ToString(CultureInfo.InvariantCulture),
            "--raft-port", member.RaftPort.ToString(CultureInfo.InvariantCulture),
            "--peers", peers,
            "--data", member.Data.Path,
            "--join-grace", "0.3",
            "--election-timeout", "400",
            .. ExtraArguments(member),
        ];
        member.Process = ChildProcess.StartProgram("Router", "kvndb-router", arguments);
    }

    /// <summary>SIGKILL of member <paramref name="index"/>: no shutdown code runs.</summary>
    public async Task KillAsync(int index)
    {
        if (_members[index].Process is { } process)
        {
            await process.KillAsync();
            await process.DisposeAsync();
            _members[index].Process = null;
        }
    }

    public int IndexOf(string router) => Array.FindIndex(_members, m => m.Address == router);

    /// <summary>Connects a client to whichever router leads (retrying while the group elects one).</summary>
    public Task<KvnDbClient> ConnectAsync() =>
        Eventually.SucceedsAsync<KvnDbConnectionException, KvnDbClient>(() => KvnDbClient.ConnectAsync(ClientOptions), TestCluster.Timeout);

    /// <summary>What each process wrote, for a failure message.</summary>
    public string Output => string.Join("\n", _members.Select((m, i) => $"--- router {i} ({m.Address}):\n{m.Process?.Output ?? "(not running)"}"));

    public async ValueTask DisposeAsync()
    {
        foreach (var member in _members)
        {
            if (member.Process is { } process)
                await process.DisposeAsync();
            member.Dispose();
        }
    }
}

using System.Diagnostics;
using System.Net;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using KvnDb.Protocol;
using KvnDb.Router.Membership;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router.Ha;

/// <summary>
/// A router in a router group (issue 17): a Raft member (DotNext.Net.Cluster over TCP, its log and snapshots in
/// <c>DIR/raft</c>) in front of a <see cref="RouterHost"/> on the client port, one for the router's life. While another
/// router leads, the host's role is a standby's, which answers every hello with NotLeader and the leader's address.
/// Once this router is elected and its announcement (term, address) is committed, the host switches to an active role
/// whose metadata lives in the Raft log (<see cref="RaftMetadataStore"/>): it adopts a source of truth exactly as a
/// restarted single router does. When leadership ends (a newer term, or a lost quorum: DotNext's leader steps down when
/// a heartbeat round misses a majority), the host switches back to a standby role and the active one stops at once
/// (its nodes are told to go). The ports stay bound throughout: a switch starts no Kestrel and binds nothing.
/// </summary>
public sealed partial class RouterGroup : IAsyncDisposable
{
    private readonly RouterOptions _options;
    private readonly GroupOptions _group;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly RouterStateMachine _state;
    private readonly WriteAheadLog _log;
    private readonly RaftCluster _raft;
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _stopRequested = new();
    private RouterHost? _host;
    private Task _run = Task.CompletedTask;
    private Task _barrier = Task.CompletedTask;
    private Task _warmUp = Task.CompletedTask;
    private long _elections;
    private long _stepDowns;
    private long _leaderChanges;
    private volatile bool _disposing;
    private readonly GroupMetrics _metrics;
    private readonly StallDetector _stalls;

    private RouterGroup(RouterOptions options, GroupOptions group, ILoggerFactory loggerFactory, RouterStateMachine state, WriteAheadLog log, RaftCluster raft)
    {
        _options = options;
        _group = group;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<RouterGroup>();
        _state = state;
        _log = log;
        _raft = raft;
        Advertised = "";
        // A stall well inside the lease's margin is caught; after one, the lease waits out a whole election.
        _stalls = new StallDetector(group.ElectionTimeout / 4, group.ElectionTimeout * 2, _logger);
        _metrics = new GroupMetrics(this);
    }

    /// <summary>
    /// The leader's heartbeat period as a fraction of the election timeout T (DotNext's default is 0.5). The lease runs
    /// T from the start of the round that renewed it, so it survives a stall of T minus one period: 0.75 T (300 ms at the
    /// default T = 400 ms, as much as 0.5 of the former 600 ms gave). A new leader's first round also fails by design (it
    /// sends the no-op from the follower's assumed next index, which the follower lacks) and is retried a period later,
    /// unless <see cref="CommitBarrierAsync"/> forces the retry.
    /// </summary>
    internal const double HeartbeatThreshold = 0.25;

    /// <summary>Where clients and nodes reach this router (host:port).</summary>
    public string Advertised { get; private set; }

    /// <summary>The router's host (its role standby or active); null only before it started.</summary>
    public RouterHost? Host => Volatile.Read(ref _host);

    /// <summary>True while this router is the group's active router.</summary>
    public bool IsActive => Host?.Options.Group is { IsActive: true };

    /// <summary>The current Raft term as this router knows it.</summary>
    public long Term => _raft.Term;

    /// <summary>Cancelled when the router should stop on its own (its host was stopped by a signal, or could not start).</summary>
    public CancellationToken StopRequested => _stopRequested.Token;

    /// <summary>Times this router became the active router, and stepped down (<c>kvndb info</c>, metrics).</summary>
    public long Elections => Interlocked.Read(ref _elections);

    /// <summary>Stalls of this process the lease was not trusted across (<see cref="StallDetector"/>).</summary>
    public long Stalls => _stalls.Stalls;

    public long StepDowns => Interlocked.Read(ref _stepDowns);

    /// <summary>Leader changes this router saw (an election won by anyone, or a leader lost).</summary>
    public long LeaderChanges => Interlocked.Read(ref _leaderChanges);

    /// <summary>The active router's address, when the leader of the current term has announced itself; otherwise null.</summary>
    public string? LeaderAddress
    {
        get
        {
            var record = _state.Leader;
            if (record is null || record.Term != _raft.Term || _raft.Leader is null)
                return null;
            // A leader that stepped down still finds its own announcement for the term: it is no leader to redirect to.
            return record.Address == Advertised && !IsActive ? null : record.Address;
        }
    }

    /// <summary>The active router's RESP endpoint (host, port), when announced in the current term and it has a RESP port.</summary>
    internal RouterAddress? LeaderResp
    {
        get
        {
            var record = _state.Leader;
            return record is { RespPort: > 0 } && record.Term == _raft.Term && _raft.Leader is not null && record.Address != Advertised
                && RouterAddress.TryParse(record.Address, out var address)
                ? address with { Port = record.RespPort }
                : null;
        }
    }

    /// <summary>
    /// True while this router leads <paramref name="term"/> and holds its leader lease: a majority answered a heartbeat
    /// round begun less than the lower election timeout ago, so no other router can have been elected since (a follower
    /// votes only after that long without its leader). The active router acknowledges a write only then; past it a later
    /// term may already serve, and a node still linked here would apply a write the group never sees (issue 17 fencing).
    /// DotNext expires the lease by a timer, which a paused process runs late: <see cref="StallDetector"/> covers that.
    /// </summary>
    internal bool HoldsLease(long term) =>
        _raft.Term == term && _raft.TryGetLeaseToken(out var lease) && !lease.IsCancellationRequested && _stalls.Trusted;

    /// <summary>The group's members as this router sees them: Raft endpoint, and whether it leads.</summary>
    public IReadOnlyList<(string Endpoint, bool IsLeader, bool IsSelf)> Members
    {
        get
        {
            var leader = _raft.Leader;
            return [.. _raft.Members.Select(m => (m.EndPoint.ToString() ?? "?", ReferenceEquals(m, leader), !m.IsRemote))];
        }
    }

    /// <summary>Joins (or forms) the group and starts its host in the standby role; the active role follows once this router leads.</summary>
    public static async Task<RouterGroup> StartAsync(RouterOptions options, GroupOptions group, ILoggerFactory? loggerFactory = null, CancellationToken cancellationToken = default)
    {
        loggerFactory ??= Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance;
        if (options.EmbeddedNodes > 0)
            throw new ArgumentException("--nodes cannot be used with --raft-port: embedded nodes die with their router, a group must outlive any one of them");
        if (options.DataDirectory is null)
            throw new ArgumentException("a router group needs --data DIR for its Raft log");
        var self = new IPEndPoint(Resolve(options.ListenHost is "0.0.0.0" or "*" ? "127.0.0.1" : options.ListenHost), group.RaftPort);
        var peers = group.Peers.Select(p => new IPEndPoint(Resolve(p.Host), p.Port)).ToHashSet();
        peers.Add(self);
        var folder = Path.Combine(options.DataDirectory, "raft");
        var state = new RouterStateMachine(new DirectoryInfo(Path.Combine(folder, "state")));
        await state.RestoreAsync(cancellationToken).ConfigureAwait(false);
        // The log checkpoints on every commit: a committed in-sync set survives a crash.
        var log = new WriteAheadLog(new WriteAheadLog.Options { Location = Path.Combine(folder, "log") }, state);
        var lower = (int)Math.Max(50, group.ElectionTimeout.TotalMilliseconds);
        var configuration = new RaftCluster.TcpConfiguration(self)
        {
            LowerElectionTimeout = lower,
            // [T, 2T]: two followers' timeouts rarely fall within a message's delay of each other, the one way both pass
            // DotNext's pre-vote at once and split the vote (each then waits another random timeout).
            UpperElectionTimeout = lower * 2,
            HeartbeatThreshold = HeartbeatThreshold,
            RequestTimeout = TimeSpan.FromMilliseconds(lower),
            ColdStart = false,
            // The write fence (HoldsLease): the leader acknowledges only while a majority answered it within the lease.
            IsLeaderLeaseEnabled = true,
            ConfigurationStorage = null, // in memory, from --peers at every start
            LoggerFactory = loggerFactory,
        };
        var storage = configuration.ConfigurationStorage as InMemoryClusterConfigurationStorage<EndPoint>
            ?? throw new InvalidOperationException("DotNext did not make an in-memory configuration storage");
        var members = storage.CreateInitialConfigurationBuilder();
        foreach (var peer in peers)
            members.Add(peer);
        members.Build();
        var raft = new RaftCluster(configuration) { AuditTrail = log };
        var routers = new RouterGroup(options, group, loggerFactory, state, log, raft);
        try
        {
            await routers.StartStandbyAsync(cancellationToken).ConfigureAwait(false);
            raft.LeaderChanged += routers.OnLeaderChanged;
            await raft.StartAsync(cancellationToken).ConfigureAwait(false);
            routers.LogJoined(self.ToString(), string.Join(",", peers), routers.Advertised);
            routers._run = Task.Run(() => routers.RunAsync(routers._stopping.Token), CancellationToken.None);
            routers._warmUp = Task.Run(() => WarmMetadataJson(state), CancellationToken.None);
            return routers;
        }
        catch
        {
            await routers.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task StartStandbyAsync(CancellationToken cancellationToken)
    {
        var host = await RouterHost.StartAsync(_options with { Group = new GroupRole(this, active: false, _raft.Term), MetadataStore = new FileMetadataStore(null) },
            _loggerFactory, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _host, host);
        Advertised = (_group.Advertise ?? new RouterAddress(host.ConnectHost, host.Port)).ToString();
        // A stop signal reaches the host's lifetime: the whole router stops then.
        host.Stopping.Register(() =>
        {
            if (!_disposing)
                _stopRequested.Cancel();
        });
    }

    /// <summary>Standby until elected; active while leading; standby again once deposed. Ends when the router stops.</summary>
    private async Task RunAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            CancellationToken leadership;
            try
            {
                leadership = await _raft.WaitForLeadershipAsync(stopping).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            if (leadership.IsCancellationRequested)
            {
                // Elected and deposed again before we looked: wait for the next election rather than spin.
                await Task.Delay(_group.ElectionTimeout / 4, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                continue;
            }
            var term = _raft.Term;
            try
            {
                // Committed in this term, so every entry of earlier terms is applied here too: the metadata is the group's last.
                // The standby role answers meanwhile (NotLeader, no leader known yet: nodes and clients ask again shortly).
                await _raft.ReplicateAsync(GroupEntry.Leader(new LeaderRecord(term, Advertised, Host!.RespPort ?? 0)), token: leadership).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NotLeaderException or OperationCanceledException or InvalidOperationException)
            {
                if (stopping.IsCancellationRequested)
                    return;
                LogAnnounceFailed(term, ex.Message);
                continue;
            }
            Interlocked.Increment(ref _elections);
            LogLeading(term, Advertised);
            if (!await TryChangeRoleAsync(new GroupRole(this, active: true, term), new RaftMetadataStore(_raft, _state, term, leadership)).ConfigureAwait(false))
                return;
            using (var either = CancellationTokenSource.CreateLinkedTokenSource(leadership, stopping))
                await Task.Delay(Timeout.Infinite, either.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (stopping.IsCancellationRequested)
                return;
            Interlocked.Increment(ref _stepDowns);
            LogSteppedDown(term, _raft.Term);
            if (!await TryChangeRoleAsync(new GroupRole(this, active: false, _raft.Term), new FileMetadataStore(null)).ConfigureAwait(false))
                return;
        }
    }

    /// <summary>
    /// Switches the host to <paramref name="role"/> on the same ports, then retires the previous role; false (and the
    /// router stops) when the role could not start.
    /// </summary>
    private async Task<bool> TryChangeRoleAsync(GroupRole role, IMetadataStore store)
    {
        var started = Stopwatch.GetTimestamp();
        RouterRole previous;
        try
        {
            previous = Host!.ChangeRole(_options with { Group = role, MetadataStore = store });
        }
        catch (Exception ex)
        {
            LogHostFailed(role.IsActive ? "active" : "standby", ex.Message);
            await _stopRequested.CancelAsync().ConfigureAwait(false);
            return false;
        }
        LogRoleChanged(role.IsActive ? "active" : "standby", role.Term, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        started = Stopwatch.GetTimestamp();
        await previous.RetireAsync().ConfigureAwait(false);
        LogRoleRetired(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return true;
    }

    /// <summary>
    /// An active role's first load of the group's metadata (and its first save, at adoption) is System.Text.Json's first
    /// use of <see cref="RouterMetadata"/> in this process: about 50 ms of reflection on two cores, on the failover path.
    /// A standby pays it at start instead, on the metadata it holds.
    /// </summary>
    private static void WarmMetadataJson(RouterStateMachine state)
    {
        try
        {
            var metadata = state.Document is { Length: > 0 } document ? RouterMetadataJson.Deserialize(document, "the router group's metadata") : new RouterMetadata();
            RouterMetadataJson.Deserialize(RouterMetadataJson.Serialize(metadata), "the router group's metadata");
        }
        catch (Exception ex) when (ex is InvalidDataException or System.Text.Json.JsonException)
        {
            // The active role reports a document it cannot read; a warm-up has nothing to add.
        }
    }

    private void OnLeaderChanged(RaftCluster<RaftClusterMember> cluster, RaftClusterMember? leader)
    {
        Interlocked.Increment(ref _leaderChanges);
        LogLeaderChanged(leader?.EndPoint.ToString() ?? "none", cluster.Term);
        if (leader is { IsRemote: false })
            _barrier = Task.Run(() => CommitBarrierAsync(_stopping.Token), CancellationToken.None); // off DotNext's transition lock
    }

    /// <summary>
    /// Leadership counts (DotNext's <c>WaitForLeadershipAsync</c>) once the term's no-op entry is committed, but a
    /// new leader's first replication round is refused by every follower (it starts from an index they lack) and DotNext
    /// retries only at the next heartbeat. Two forced rounds retry at once: the first ends the refused round, the second
    /// commits the no-op.
    /// </summary>
    private async Task CommitBarrierAsync(CancellationToken stopping)
    {
        for (var round = 0; round < 2; round++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            timeout.CancelAfter(_group.ElectionTimeout);
            try
            {
                await _raft.ForceReplicationAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is NotLeaderException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
            {
                return; // deposed, stopping, or a round that did not end in time: the heartbeats go on as usual
            }
        }
    }

    private static IPAddress Resolve(string host)
    {
        if (host == "localhost")
            return IPAddress.Loopback;
        if (IPAddress.TryParse(host, out var address))
            return address;
        var addresses = Dns.GetHostAddresses(host);
        return addresses.FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new ArgumentException($"cannot resolve router group peer '{host}'");
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _barrier.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _warmUp.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _disposing = true;
        if (Interlocked.Exchange(ref _host, null) is { } host)
            await host.DisposeAsync().ConfigureAwait(false);
        _raft.LeaderChanged -= OnLeaderChanged;
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
            await _raft.StopAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _raft.DisposeAsync().ConfigureAwait(false);
        await _log.DisposeAsync().ConfigureAwait(false);
        await _state.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _stopRequested.Dispose();
        _metrics.Dispose();
        _stalls.Dispose();
    }

    [LoggerMessage(170, LogLevel.Information, "Router group: Raft endpoint {Endpoint}, members {Members}; clients and nodes reach this router at {Advertised}")]
    private partial void LogJoined(string endpoint, string members, string advertised);

    [LoggerMessage(171, LogLevel.Information, "Router group: this router leads term {Term} and is the active router at {Advertised}")]
    private partial void LogLeading(long term, string advertised);

    [LoggerMessage(172, LogLevel.Warning, "Router group: this router stepped down after leading term {Term} (now term {Now}); it is a standby")]
    private partial void LogSteppedDown(long term, long now);

    [LoggerMessage(173, LogLevel.Information, "Router group: leader is {Leader} (term {Term})")]
    private partial void LogLeaderChanged(string leader, long term);

    [LoggerMessage(174, LogLevel.Warning, "Router group: elected in term {Term} but the announcement was not committed: {Reason}")]
    private partial void LogAnnounceFailed(long term, string reason);

    [LoggerMessage(177, LogLevel.Information, "Router group: {Role} host (term {Term}) on the ports: the role started in {StartMs:0} ms and serves the ports, which stayed bound")]
    private partial void LogRoleChanged(string role, long term, double startMs);

    [LoggerMessage(179, LogLevel.Debug, "Router group: the previous role stopped in {StopMs:0} ms (its sessions and node links ended)")]
    private partial void LogRoleRetired(double stopMs);

    [LoggerMessage(175, LogLevel.Error, "Router group: the {Role} role of the router host could not start: {Reason}; the router stops")]
    private partial void LogHostFailed(string role, string reason);
}

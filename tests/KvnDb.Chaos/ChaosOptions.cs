namespace KvnDb.Chaos;

internal sealed record ChaosOptions
{
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(60);

    public int Nodes { get; init; } = 3;

    /// <summary>Routers: 1 (a single router) or a router group of this many (<c>--raft-port</c>); router-kill and router-freeze then hit the leader.</summary>
    public int Routers { get; init; } = 1;

    /// <summary>The routers' <c>--election-timeout</c> in a group (the router's default).</summary>
    public TimeSpan ElectionTimeout { get; init; } = TimeSpan.FromMilliseconds(400);

    /// <summary>The routers' <c>--join-grace</c>: how long a new active router gathers in-sync nodes before it adopts one.</summary>
    public TimeSpan JoinGrace { get; init; } = TimeSpan.FromSeconds(1);

    public int Keys { get; init; } = 2000;

    public int Writers { get; init; } = 4;

    /// <summary>Quiet time between one disturbance's recovery and the next disturbance.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(2);

    public string Engine { get; init; } = "dir";

    public int Seed { get; init; } = Environment.TickCount;

    public IReadOnlyList<DisturbanceKind> Kinds { get; init; } = DisturbanceKinds.All;

    /// <summary>The run goes on past <see cref="Duration"/> until this many rounds of <see cref="Kinds"/> are done (each round deals every kind once).</summary>
    public int MinRounds { get; init; }

    /// <summary>Longest freeze or cut; each lasts a random 1 s to this.</summary>
    public TimeSpan MaxFault { get; init; } = TimeSpan.FromSeconds(8);

    /// <summary>Acknowledged writes a late-returning node misses, on average (a random half to twice this).</summary>
    public int LateWrites { get; init; } = 1000;

    /// <summary>Router <c>--node-timeout</c>.</summary>
    public TimeSpan NodeTimeout { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Router <c>--node-evict</c>: small, so a frozen or cut node is evicted inside a short run.</summary>
    public TimeSpan NodeEvict { get; init; } = TimeSpan.FromSeconds(3);

    /// <summary>Node <c>--router-timeout</c> and <c>--connect-timeout</c>.</summary>
    public TimeSpan RouterTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Client request timeout: longer than <see cref="NodeEvict"/>, so a write held by a faulty node completes once it is evicted.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the cluster may take to serve with every node again after a disturbance before the run fails.</summary>
    public TimeSpan RecoveryTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public string WorkDirectory { get; init; } = Path.Combine(Path.GetTempPath(), $"kvndb-chaos-{Environment.ProcessId}");

    /// <summary>Keep the work directory (logs, data) after a passing run too; a failing run always keeps it.</summary>
    public bool Keep { get; init; }
}

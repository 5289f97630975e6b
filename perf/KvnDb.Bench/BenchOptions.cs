using KvnDb.Protocol;
using KvnDb.Transport;

namespace KvnDb.Bench;

/// <summary>What to run, with redis-benchmark's defaults where the flag is the same.</summary>
internal sealed record BenchOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>Null means the protocol's default port (54565 for kvndb, 6379 for resp).</summary>
    public int? Port { get; init; }

    /// <summary>The routers of a router group (<c>--routers h:p,h:p</c>): the run goes to the leader, found before it starts.</summary>
    public IReadOnlyList<string> Routers { get; init; } = [];

    public int Clients { get; init; } = 50;

    public long Requests { get; init; } = 100_000;

    public int DataSize { get; init; } = 3;

    public int Pipeline { get; init; } = 1;

    public IReadOnlyList<TestKind> Tests { get; init; } = [TestKind.Set, TestKind.Get];

    /// <summary>Keys are drawn at random from [0, Keyspace); 0 means one fixed key, as redis-benchmark without <c>-r</c>.</summary>
    public long Keyspace { get; init; }

    public string Password { get; init; } = "";

    public bool Quiet { get; init; }

    public bool Csv { get; init; }

    public BenchProtocol Protocol { get; init; } = BenchProtocol.KvnDb;

    public WriteConcern WriteConcern { get; init; } = WriteConcern.All;

    /// <summary>Print the router's GC counts and allocated bytes before and after (kvndb only).</summary>
    public bool RouterInfo { get; init; }

    /// <summary>Only print the router's <c>info</c> text and exit (scripts use it to wait for nodes).</summary>
    public bool InfoOnly { get; init; }

    /// <summary>The generator's socket engine (<c>--io-engine</c>): its own epoll loops where supported.</summary>
    public IoEngine IoEngine { get; init; } = EpollNative.DefaultEngine;

    /// <summary>Event-loop threads on epoll (<c>--threads</c>, as redis-benchmark's).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Null: show the progress line only when stderr is a terminal.</summary>
    public bool? Progress { get; init; }

    public int EffectivePort => Port ?? (Protocol == BenchProtocol.Resp ? 6379 : ProtocolLimits.DefaultPort);
}

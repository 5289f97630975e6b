using System.Globalization;
using KvnDb.Protocol;
using KvnDb.Transport;

namespace KvnDb.Bench;

/// <summary>
/// Parses redis-benchmark's flags by hand: <c>-h</c> is the host there (not help) and flags are
/// single-dash words, which a general-purpose parser would fight.
/// </summary>
internal static class BenchOptionsParser
{
    public const string Usage = """
        Usage: kvndb-bench [-h <host>] [-p <port>] [-c <clients>] [-n <requests>] [-d <size>]
                           [-P <numreq>] [-t <tests>] [-r <keyspacelen>] [-a <password>] [-q] [--csv]
                           [--protocol kvndb|resp] [--write-concern all|one|none] [--router-info] [--info]
                           [--io-engine epoll|sockets] [--threads <n>] [--progress|--no-progress]

         -h <hostname>      Server hostname (default 127.0.0.1)
         --routers <h:p,..> The routers of a router group: the run goes to the leader (native protocol)
         -p <port>          Server port (default 54565 for kvndb, 6379 for resp)
         -a <password>      Password (kvndb hello, or RESP AUTH)
         -c <clients>       Number of parallel connections (default 50)
         -n <requests>      Total number of requests per test (default 100000)
         -d <size>          Data size of SET/GET value in bytes (default 3)
         -P <numreq>        Pipeline <numreq> requests per connection (default 1: no pipeline)
         -t <tests>         Comma-separated tests: set, get, ping (default set,get)
         -r <keyspacelen>   Random keys key:NNNNNNNNNNNN in [0, keyspacelen) instead of one fixed key
         -q                 Quiet: just the requests per second and p50 per test
         --csv              CSV output, redis-benchmark's columns
         --protocol <p>     kvndb (native, default) or resp (Redis, Garnet, twemproxy)
         --write-concern    Write concern of SET on kvndb (default all)
         --router-info      Print the router's GC collections and allocated bytes per request (kvndb)
         --info             Print the router's info text and exit (kvndb)
         --io-engine <e>    epoll: the connections on event loops of its own (Linux, the default there);
                            sockets: .NET's engine (a thread-pool hop per reply, more CPU per request)
         --threads <n>      Event-loop threads on epoll (default 1, as redis-benchmark)
         --progress         Always show the live progress line on stderr (default: only on a terminal)
         --help             This text
        """;

    /// <summary>Returns the options, or null with an error message (or with a null error for --help).</summary>
    public static BenchOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        var options = new BenchOptions();
        error = null;
        for (var i = 0; i < args.Count; i++)
        {
            var flag = args[i];
            string Value()
            {
                if (i + 1 >= args.Count)
                    throw new FormatException($"{flag} needs a value");
                return args[++i];
            }
            try
            {
                options = flag switch
                {
                    "-h" => options with { Host = Value() },
                    "--routers" => options with { Routers = [.. RouterAddress.ParseList(Value()).Select(r => r.ToString())] },
                    "-p" => options with { Port = Positive(flag, Value(), 65535) },
                    "-a" => options with { Password = Value() },
                    "-c" => options with { Clients = Positive(flag, Value(), 10_000) },
                    "-n" => options with { Requests = PositiveLong(flag, Value()) },
                    "-d" => options with { DataSize = NonNegative(flag, Value(), ProtocolLimits.DefaultMaxFrameSize / 2) },
                    "-P" => options with { Pipeline = Positive(flag, Value(), 100_000) },
                    "-t" => options with { Tests = ParseTests(Value()) },
                    "-r" => options with { Keyspace = PositiveLong(flag, Value()) },
                    "-q" => options with { Quiet = true },
                    "--csv" => options with { Csv = true },
                    "--protocol" => options with { Protocol = ParseProtocol(Value()) },
                    "--write-concern" => options with { WriteConcern = ParseConcern(Value()) },
                    "--router-info" => options with { RouterInfo = true },
                    "--info" => options with { InfoOnly = true },
                    "--io-engine" => options with { IoEngine = ParseEngine(Value()) },
                    "--threads" => options with { Threads = Positive(flag, Value(), 64) },
                    "--progress" => options with { Progress = true },
                    "--no-progress" => options with { Progress = false },
                    "--help" or "-?" => null,
                    _ => throw new FormatException($"unknown option '{flag}'"),
                };
            }
            catch (FormatException ex)
            {
                error = ex.Message.StartsWith(flag, StringComparison.Ordinal) ? ex.Message : $"{flag}: {ex.Message}";
                return null;
            }
            if (options is null)
                return null;
        }
        return options;
    }

    private static List<TestKind> ParseTests(string value)
    {
        var tests = new List<TestKind>();
        foreach (var name in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var test = name.ToLowerInvariant() switch
            {
                "set" => TestKind.Set,
                "get" => TestKind.Get,
                "ping" or "ping_mbulk" => TestKind.Ping,
                "incr" => TestKind.Incr,
                "setnx" => TestKind.SetNx,
                _ => throw new FormatException($"unknown test '{name}' (expected set, get, ping, incr, setnx)"),
            };
            if (!tests.Contains(test))
                tests.Add(test);
        }
        return tests.Count > 0 ? tests : throw new FormatException("-t needs at least one test");
    }

    private static BenchProtocol ParseProtocol(string value) => value.ToLowerInvariant() switch
    {
        "kvndb" => BenchProtocol.KvnDb,
        "resp" => BenchProtocol.Resp,
        _ => throw new FormatException($"unknown protocol '{value}' (expected kvndb or resp)"),
    };

    private static IoEngine ParseEngine(string value) => value.ToLowerInvariant() switch
    {
        "epoll" when EpollNative.IsSupported => IoEngine.Epoll,
        "epoll" => throw new FormatException("epoll needs Linux on x86-64 or arm64 (use sockets)"),
        "sockets" => IoEngine.Sockets,
        _ => throw new FormatException($"unknown engine '{value}' (expected epoll or sockets)"),
    };

    private static WriteConcern ParseConcern(string value) => value.ToLowerInvariant() switch
    {
        "all" => WriteConcern.All,
        "one" => WriteConcern.One,
        "none" => WriteConcern.None,
        _ => throw new FormatException($"unknown write concern '{value}' (expected all, one, none)"),
    };

    private static int Positive(string flag, string value, int max)
    {
        var parsed = NonNegative(flag, value, max);
        return parsed > 0 ? parsed : throw new FormatException($"{flag} must be above 0");
    }

    private static int NonNegative(string flag, string value, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed <= max
            ? parsed
            : throw new FormatException($"{flag} expects a whole number from 0 to {max}, got '{value}'");

    private static long PositiveLong(string flag, string value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) && parsed > 0
            ? parsed
            : throw new FormatException($"{flag} expects a whole number above 0, got '{value}'");
}

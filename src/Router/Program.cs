using System.CommandLine;
using KvnDb.Hosting;
using KvnDb.Protocol;
using KvnDb.Router;
using KvnDb.Transport;
using Microsoft.Extensions.Logging;

var hostOption = new Option<string>("--host") { Description = "Address to listen on", DefaultValueFactory = _ => "127.0.0.1" };
var portOption = new Option<int>("--port") { Description = "Port to listen on", DefaultValueFactory = _ => ProtocolLimits.DefaultPort };
var respPortOption = new Option<int?>("--resp-port") { Description = "Also listen for Redis clients (RESP2/RESP3) on this port; off by default (6379 is the habit)" };
var passwordOption = new Option<string?>("--password", "-p") { Description = "Password clients must present" };
var nodePasswordOption = new Option<string?>("--node-password") { Description = "Password separate nodes must present, different from -p (with -p and no node password only the embedded nodes join; also --node-password-file, $KVNDB_NODE_PASSWORD)" };
var nodesOption = new Option<int>("--nodes", "-n") { Description = "Also start N in-process ram nodes (a whole cluster in one process)" };
var readPolicyOption = new Option<ReadPolicy>("--read-policy") { Description = "How reads pick a node", DefaultValueFactory = _ => ReadPolicy.LeastOutstanding };
var maxFrameOption = new Option<string>("--max-frame") { Description = "Largest frame body accepted", DefaultValueFactory = _ => "64m" };
var maxKeyOption = new Option<string>("--max-key") { Description = "Largest key accepted", DefaultValueFactory = _ => "64k" };
var backlogOption = new Option<string>("--backlog") { Description = "Recent writes kept for returning nodes", DefaultValueFactory = _ => "64m" };
var joinGraceOption = new Option<double>("--join-grace") { Description = "Seconds to gather nodes after a start before adopting the most advanced one", DefaultValueFactory = _ => 1 };
var dataOption = new Option<string>("--data") { Description = "Folder of the router's durable metadata (in-sync set, history)", DefaultValueFactory = _ => "./kvndb-router-data" };
var heartbeatOption = new Option<double>("--heartbeat") { Description = "Milliseconds between pings on an idle node link", DefaultValueFactory = _ => 250 };
var nodeTimeoutOption = new Option<double>("--node-timeout") { Description = "Seconds of silence after which a node is suspect (no reads)", DefaultValueFactory = _ => 2 };
var nodeEvictOption = new Option<double>("--node-evict") { Description = "Seconds of silence after which a node leaves the in-sync set; unacknowledged writes fail then", DefaultValueFactory = _ => 5 };
var forceAdoptOption = new Option<bool>("--force-adopt") { Description = "Adopt the most advanced node even if it was not in sync (LOSES the writes only the missing in-sync nodes held)" };
var outputLimitOption = new Option<string>("--output-limit") { Description = "Unread output after which a peer is disconnected", DefaultValueFactory = _ => "128m" };
var outputPauseOption = new Option<string>("--output-pause") { Description = "Unread output past which the router stops reading a client until it reads (at most half --output-limit)", DefaultValueFactory = _ => "4m" };
var maxInFlightOption = new Option<int>("--max-inflight") { Description = "Requests in flight per client connection before the router stops reading it", DefaultValueFactory = _ => 4096 };
var idleTimeoutOption = new Option<double>("--idle-timeout") { Description = "Close client connections idle this many seconds (0: never)" };
var handshakeTimeoutOption = new Option<double>("--handshake-timeout") { Description = "Seconds a new connection has to complete its hello", DefaultValueFactory = _ => 10 };
var maxConnectionsOption = new Option<int>("--max-connections") { Description = "Connections accepted at once", DefaultValueFactory = _ => 10_000 };
var insecureOption = new Option<bool>("--insecure") { Description = "Allow a non-loopback address without any password" };
var transportOption = SharedOptions.Transport("tcp, tcp6 (IPv6) or tls");
var tlsCertOption = SharedOptions.TlsCertificate("Router certificate for -t tls (PEM or PFX)");
var tlsKeyOption = SharedOptions.TlsKey();
var tlsCaOption = SharedOptions.TlsCa("Require client and node certificates signed by this CA (PEM)");
var metricsPortOption = new Option<int?>("--http-port", "--metrics-port") { Description = "Serve the status page, /metrics (Prometheus) and /health at http://HOST:PORT/" };
var inlineIoOption = new Option<bool>("--inline-io") { Description = "Handle socket completions on the I/O threads (no thread-pool hop; see README performance)" };
var eagerReadsOption = new Option<bool>("--eager-reads") { Description = "Receive into a buffer at once, without first waiting for data with a zero-byte read: one receive call fewer per request, a 4 KiB buffer held by each idle connection" };
var ioEngineOption = new Option<IoEngine>("--io-engine") { Description = "Socket engine: epoll (Linux, the default there: KvnDb's own edge-triggered loops, cheaper per request) or sockets (.NET's, portable)", DefaultValueFactory = _ => new RouterOptions().IoEngine };
var ioThreadsOption = new Option<int>("--io-threads") { Description = "Threads of the epoll engine (0: half the cores, at least one)" };
var busyPollOption = new Option<int>("--busy-poll") { Description = "Microseconds an epoll thread polls for its next event before it sleeps, adapted to the traffic (0: always sleep): lower latency and less CPU per request under load, some CPU spent polling", DefaultValueFactory = _ => (int)RouterOptions.DefaultBusyPoll.TotalMicroseconds };
var ioQueuesOption = new Option<int>("--io-queues") { Description = "Socket I/O queues (0: one per core)" };
var passwordFileOption = Secrets.FileOption("--password-file", "Read the client password from FILE (default: $KVNDB_PASSWORD)");
var nodePasswordFileOption = Secrets.FileOption("--node-password-file", "Read the node password from FILE (default: $KVNDB_NODE_PASSWORD)");
var configOption = ConfigFile.Option();
var raftPortOption = new Option<int?>("--raft-port") { Description = "Form a router group: this router's Raft port (with --peers); the leader is the active router, the others standbys" };
var peersOption = new Option<string?>("--peers") { Description = "Raft endpoints of the router group, host:port,host:port,... (with --raft-port)" };
var advertiseOption = new Option<string?>("--advertise") { Description = "host:port where clients and nodes reach this router (in a group's redirects; default: --host and --port)" };
SharedOptions.ValidateWith(peersOption, text => RouterAddress.ParseList(text));
SharedOptions.ValidateWith(advertiseOption, text => RouterAddress.Parse(text));
var electionTimeoutOption = new Option<double>("--election-timeout")
{
    Description = "Milliseconds without the group leader before a new election (randomised up to twice this); the leader heartbeats every quarter of it",
    DefaultValueFactory = _ => KvnDb.Router.Ha.GroupOptions.DefaultElectionTimeout.TotalMilliseconds,
};
var groupsOption = new Option<string>("--groups")
{
    Description = "Replica groups, comma-separated (e.g. a,b): at the first start the 16,384 slots are split evenly among them; nodes join one with kvndb-node --group",
    DefaultValueFactory = _ => HelloRequest.DefaultGroup,
};
groupsOption.Validators.Add(result =>
{
    foreach (var name in (result.GetValueOrDefault<string>() ?? "").Split(','))
        if (!HelloRequest.IsValidGroupName(name.Trim()))
            result.AddError($"--groups: '{name}' is not a group name (1 to {HelloRequest.MaxGroupNameBytes} ASCII letters, digits, '-', '_' or '.')");
});
SharedOptions.ValidateSize(maxFrameOption, int.MaxValue);
SharedOptions.ValidateSize(maxKeyOption, int.MaxValue);
SharedOptions.ValidateSize(backlogOption);
SharedOptions.ValidateSize(outputLimitOption);
SharedOptions.ValidateSize(outputPauseOption);
var verboseOption = SharedOptions.Verbose();
var logFileOption = SharedOptions.LogFile();

var root = new RootCommand("kvndb-router: the KvnDb router. Clients and database nodes connect here; writes go to every node, reads to one.")
{
    hostOption, portOption, respPortOption, passwordOption, nodePasswordOption, nodesOption, readPolicyOption, maxFrameOption, maxKeyOption, backlogOption, joinGraceOption, dataOption, heartbeatOption, nodeTimeoutOption, nodeEvictOption, forceAdoptOption, outputLimitOption, outputPauseOption, maxInFlightOption, idleTimeoutOption, handshakeTimeoutOption, maxConnectionsOption, insecureOption,
    metricsPortOption, inlineIoOption, eagerReadsOption, ioEngineOption, ioThreadsOption, busyPollOption, ioQueuesOption, transportOption, tlsCertOption, tlsKeyOption, tlsCaOption, verboseOption, logFileOption,
    passwordFileOption, nodePasswordFileOption, configOption, raftPortOption, peersOption, advertiseOption, electionTimeoutOption, groupsOption,
};
root.Validators.Add(result =>
{
    // Both sizes parse (their own validators said so otherwise); the pause must leave room under the limit.
    if (SizeParser.TryParse(result.GetValue(outputPauseOption) ?? "", out var pause) && SizeParser.TryParse(result.GetValue(outputLimitOption) ?? "", out var limit)
        && RouterOptions.CheckOutputPause(pause, limit) is { } error)
        result.AddError(error);
});
root.SetAction(async (parse, cancellationToken) =>
{
    // System.CommandLine 2.0.0 installs its SIGTERM/SIGINT handler once the action first yields: before that a stop
    // signal kills the process outright. Yield first, so a stop during the start is a clean stop too.
    await Task.Yield();
    using var loggerFactory = Logging.Create(parse.GetValue(verboseOption), parse.GetValue(logFileOption));
    var logger = loggerFactory.CreateLogger("kvndb-router");
    var options = new RouterOptions
    {
        Host = parse.GetValue(hostOption)!,
        Transport = parse.GetValue(transportOption)!,
        TlsCertificateFile = parse.GetValue(tlsCertOption),
        TlsKeyFile = parse.GetValue(tlsKeyOption),
        TlsCaFile = parse.GetValue(tlsCaOption),
        Port = parse.GetValue(portOption),
        RespPort = parse.GetValue(respPortOption),
        Password = Secrets.Resolve(parse.GetValue(passwordOption), parse.GetValue(passwordFileOption), "KVNDB_PASSWORD") ?? "",
        NodePassword = Secrets.Resolve(parse.GetValue(nodePasswordOption), parse.GetValue(nodePasswordFileOption), "KVNDB_NODE_PASSWORD"),
        EmbeddedNodes = parse.GetValue(nodesOption),
        Groups = [.. parse.GetValue(groupsOption)!.Split(',').Select(g => g.Trim())],
        ReadPolicy = parse.GetValue(readPolicyOption),
        MaxFrameSize = checked((int)SizeParser.Parse(parse.GetValue(maxFrameOption)!)),
        MaxKeySize = checked((int)SizeParser.Parse(parse.GetValue(maxKeyOption)!)),
        BacklogBytes = SizeParser.Parse(parse.GetValue(backlogOption)!),
        JoinGrace = TimeSpan.FromSeconds(parse.GetValue(joinGraceOption)),
        DataDirectory = parse.GetValue(dataOption),
        Heartbeat = TimeSpan.FromMilliseconds(parse.GetValue(heartbeatOption)),
        NodeTimeout = TimeSpan.FromSeconds(parse.GetValue(nodeTimeoutOption)),
        NodeEvictTimeout = TimeSpan.FromSeconds(parse.GetValue(nodeEvictOption)),
        ForceAdopt = parse.GetValue(forceAdoptOption),
        OutputLimitBytes = SizeParser.Parse(parse.GetValue(outputLimitOption)!),
        OutputPauseBytes = SizeParser.Parse(parse.GetValue(outputPauseOption)!),
        MaxInFlightPerClient = parse.GetValue(maxInFlightOption),
        IdleTimeout = TimeSpan.FromSeconds(parse.GetValue(idleTimeoutOption)),
        HandshakeTimeout = TimeSpan.FromSeconds(parse.GetValue(handshakeTimeoutOption)),
        MaxConnections = parse.GetValue(maxConnectionsOption),
        Insecure = parse.GetValue(insecureOption),
        HttpPort = parse.GetValue(metricsPortOption),
        InlineIo = parse.GetValue(inlineIoOption),
        IoQueueCount = parse.GetValue(ioQueuesOption),
        EagerReads = parse.GetValue(eagerReadsOption),
        IoEngine = parse.GetValue(ioEngineOption),
        IoThreads = parse.GetValue(ioThreadsOption),
        BusyPoll = TimeSpan.FromMicroseconds(Math.Max(0, parse.GetValue(busyPollOption))),
    };
    // The runtime reads this once, when the first socket starts its event loop: still ahead of us here. An operator's own
    // setting wins (=0 keeps socket completions on the thread pool and runs only Kestrel's pipe callbacks inline).
    if (options.InlineIo && Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
        Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
    try
    {
        if (parse.GetValue(raftPortOption) is { } raftPort)
        {
            var group = new KvnDb.Router.Ha.GroupOptions
            {
                RaftPort = raftPort,
                Peers = RouterAddress.ParseList(parse.GetValue(peersOption) ?? throw new ArgumentException("--raft-port needs --peers host:port,host:port,...")),
                Advertise = parse.GetValue(advertiseOption) is { } advertise ? RouterAddress.Parse(advertise) : null,
                ElectionTimeout = TimeSpan.FromMilliseconds(parse.GetValue(electionTimeoutOption)),
            };
            await using var routers = await KvnDb.Router.Ha.RouterGroup.StartAsync(options, group, loggerFactory, cancellationToken);
            using var stopGroup = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, routers.StopRequested);
            await Task.Delay(Timeout.Infinite, stopGroup.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            RouterLog.Stopping(logger);
            return 0;
        }
        await using var router = await RouterHost.StartAsync(options, loggerFactory, cancellationToken);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, router.Stopping);
        await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
        RouterLog.Stopping(logger);
        return 0;
    }
    catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
    {
        // SIGTERM or SIGINT before the host had started (System.CommandLine cancels the action's token): a clean stop.
        RouterLog.Stopping(logger);
        return 0;
    }
    catch (Exception ex) when (ex is IOException or InvalidOperationException or ArgumentException or FormatException or System.Net.Sockets.SocketException
        or System.Security.Cryptography.CryptographicException)
    {
        RouterLog.CannotStart(logger, options.Host, options.Port, ex.Message);
        return 1;
    }
});
string[] arguments;
try
{
    arguments = ConfigFile.Apply(root, args);
}
catch (FormatException ex)
{
    await Console.Error.WriteLineAsync($"kvndb-router: {ex.Message}");
    return 1;
}
return await root.Parse(arguments).InvokeAsync();

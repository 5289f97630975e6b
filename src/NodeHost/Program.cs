using System.CommandLine;
using KvnDb.Hosting;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.NodeHost;
using KvnDb.Protocol;
using KvnDb.Transport;
using Microsoft.Extensions.Logging;

// Exit code of a node that stopped without the final checkpoint it owed (disk full or failing, or too slow).
const int ExitFinalCheckpointFailed = 3;

var engineOption = new Option<string>("--engine", "-e")
{
    Description = $"Storage engine: {string.Join(", ", StorageEngineFactory.Names)}",
    DefaultValueFactory = _ => "faster",
};
var dataOption = new Option<string?>("--data", "-d") { Description = "Data folder (faster and dir engines; default ./kvndb-data)" };
var memoryOption = new Option<string>("--memory", "-m")
{
    Description = "Memory budget of the faster engine (index, in-memory log, WAL buffer), e.g. 512m, 2g",
    DefaultValueFactory = _ => "512m",
};
var expectedKeysOption = new Option<long>("--expected-keys")
{
    Description = "Keys the faster engine sizes its hash index for at first (a 64-byte bucket per two keys; the index doubles as keys outgrow it, up to an eighth of --memory)",
    DefaultValueFactory = _ => StorageOptions.DefaultExpectedKeys,
};
var reserveSpaceOption = new Option<string>("--reserve-space")
{
    Description = "Space the faster engine leaves free on the data folder's file system: writes that would eat into it are refused (StorageUnavailable) until space returns, e.g. 16m, 1g",
    DefaultValueFactory = _ => "16m",
};
var checkpointIntervalOption = new Option<double>("--checkpoint-interval")
{
    Description = "Seconds between checkpoints of the faster engine (0: only at shutdown)",
    DefaultValueFactory = _ => 60,
};
var compactMinSizeOption = new Option<string>("--compact-min-size")
{
    Description = "faster engine: the log is compacted (live records copied forward, the rest's disk space given back) only once it is at least this large, e.g. 64m, 1g (0: never automatically)",
    DefaultValueFactory = _ => "64m",
};
var compactGrowthOption = new Option<int>("--compact-growth")
{
    Description = "faster engine: compact once the log has grown this many percent since the last compaction (0: never automatically)",
    DefaultValueFactory = _ => 100,
};
var durabilityOption = new Option<string>("--durability")
{
    Description = "faster engine: none (ack after the in-memory apply) or fsync (ack once the write is on disk, group-committed)",
    DefaultValueFactory = _ => "none",
};
durabilityOption.AcceptOnlyFromAmong("none", "fsync");
var hostOption = new Option<string>("--host") { Description = "Router host", DefaultValueFactory = _ => "127.0.0.1" };
var portOption = new Option<int>("--port") { Description = "Router port", DefaultValueFactory = _ => ProtocolLimits.DefaultPort };
var routersOption = new Option<string?>("--routers") { Description = "The routers of a router group, host:port,host:port,... (instead of --host and --port): the node links to the leader" };
SharedOptions.ValidateWith(routersOption, text => RouterAddress.ParseList(text));
var passwordOption = new Option<string?>("--password", "-p") { Description = "Router (node) password" };
// Kept only to refuse it: a start flag resets again at every supervisor restart. The one-shot is `kvndb-node reset`.
var resetOption = new Option<bool>("--reset", "-r") { Description = "No longer a start flag: run `kvndb-node reset --data DIR` once instead", Hidden = true };
var transportOption = SharedOptions.Transport();
var tlsCaOption = SharedOptions.TlsCa();
var tlsPinOption = SharedOptions.TlsPin();
var tlsCertOption = SharedOptions.TlsCertificate("Node certificate for a router that requires one");
var tlsKeyOption = SharedOptions.TlsKey();
var routerTimeoutOption = new Option<double>("--router-timeout")
{
    Description = "Seconds without a frame from the router (it pings idle links every 250 ms) before the node drops the link and reconnects (0: never)",
    DefaultValueFactory = _ => 3,
};
var connectTimeoutOption = new Option<double>("--connect-timeout")
{
    Description = "Seconds one connect attempt to the router (TCP and TLS) may take",
    DefaultValueFactory = _ => 3,
};
var passwordFileOption = Secrets.FileOption("--password-file", "Read the node password from FILE (default: $KVNDB_NODE_PASSWORD)");
var configOption = ConfigFile.Option();
SharedOptions.ValidateSize(memoryOption);
SharedOptions.ValidateSize(reserveSpaceOption);
SharedOptions.ValidateSize(compactMinSizeOption);
var nameOption = new Option<string?>("--name")
{
    Description = "This node's name in the router's logs and info, and in digest (default: host name and data folder, e.g. db1:/var/lib/kvndb/a)",
};
var groupOption = new Option<string>("--group")
{
    Description = "The replica group this node joins (letters, digits, - _ .): it holds the keys of that group's slots only",
    DefaultValueFactory = _ => HelloRequest.DefaultGroup,
};
groupOption.Validators.Add(result =>
{
    if (!HelloRequest.IsValidGroupName(result.GetValueOrDefault<string>() ?? ""))
        result.AddError($"--group: 1 to {HelloRequest.MaxGroupNameBytes} ASCII letters, digits, '-', '_' or '.'");
});
var maxFrameOption = new Option<string?>("--max-frame") { Description = "Refuse a router whose frame limit is above this (e.g. 64m); by default the node adopts the router's" };
var maxKeyOption = new Option<string?>("--max-key") { Description = "Refuse a router whose key limit is above this (e.g. 64k); by default the node adopts the router's" };
var ioEngineOption = new Option<IoEngine>("--io-engine") { Description = "Socket engine of the router link: epoll (Linux, the default there: the batch is applied on the receiving thread) or sockets (.NET's, portable); TLS always uses sockets", DefaultValueFactory = _ => new NodeOptions().IoEngine };
var busyPollOption = new Option<int>("--busy-poll") { Description = "Microseconds the link's epoll thread polls for the router's next frame before it sleeps, adapted to the traffic (0: always sleep)", DefaultValueFactory = _ => (int)NodeOptions.DefaultBusyPoll.TotalMicroseconds };
var httpPortOption = new Option<int?>("--http-port") { Description = "Serve /metrics (Prometheus) and /health at http://HTTP-HOST:PORT/ (0: a free port, logged)" };
var httpHostOption = new Option<string>("--http-host") { Description = "Address of the --http-port listener", DefaultValueFactory = _ => "127.0.0.1" };
var verboseOption = SharedOptions.Verbose();
var logFileOption = SharedOptions.LogFile();

var root = new RootCommand("kvndb-node: a KvnDb database node. Connects to a kvndb-router and holds a full replica.")
{
    engineOption, dataOption, memoryOption, expectedKeysOption, reserveSpaceOption, checkpointIntervalOption, compactMinSizeOption, compactGrowthOption, durabilityOption, hostOption, portOption, passwordOption, resetOption,
    routerTimeoutOption, connectTimeoutOption, maxFrameOption, maxKeyOption, transportOption, tlsCaOption, tlsPinOption, tlsCertOption, tlsKeyOption, verboseOption, logFileOption,
    httpPortOption, httpHostOption, nameOption, groupOption, passwordFileOption, configOption, routersOption, ioEngineOption, busyPollOption,
};
root.SetAction(async (parse, cancellationToken) =>
{
    // System.CommandLine 2.0.0 installs its SIGTERM/SIGINT handler only once the action first yields: until
    // then a stop signal kills the process outright (exit 143, no final checkpoint), and a start whose reads
    // all complete synchronously may not yield for a while. Yield first, so a stop is always a clean stop.
    await Task.Yield();
    using var loggerFactory = Logging.Create(parse.GetValue(verboseOption), parse.GetValue(logFileOption));
    var logger = loggerFactory.CreateLogger("kvndb-node");
    try
    {
        var engineName = parse.GetValue(engineOption)!;
        var checkpointSeconds = parse.GetValue(checkpointIntervalOption);
        if (checkpointSeconds < 0 || double.IsNaN(checkpointSeconds))
            throw new ArgumentException("--checkpoint-interval must be 0 or a positive number of seconds");
        var compactGrowth = parse.GetValue(compactGrowthOption);
        if (compactGrowth < 0)
            throw new ArgumentException("--compact-growth must be 0 or a positive percentage");
        var routerTimeout = parse.GetValue(routerTimeoutOption);
        if (routerTimeout < 0 || double.IsNaN(routerTimeout))
            throw new ArgumentException("--router-timeout must be 0 or a positive number of seconds");
        var connectTimeout = parse.GetValue(connectTimeoutOption);
        if (connectTimeout <= 0 || double.IsNaN(connectTimeout))
            throw new ArgumentException("--connect-timeout must be a positive number of seconds");
        if (parse.GetValue(resetOption))
            throw new ArgumentException("--reset is no longer a start flag (a supervisor restarting the node with it would reset it every time): " +
                "run `kvndb-node reset --data DIR` once, then start the node without --reset");
        var dataDirectory = parse.GetValue(dataOption) ?? (engineName == "ram" ? null : "kvndb-data");
        // The folder first: locked against a second node and its format checked before any engine opens a file in it.
        // Disposed last (declared first), after the engine's final checkpoint.
        using var folder = dataDirectory is null ? null : DataFolder.Open(dataDirectory, engineName);
        if (folder is { Created: true })
            NodeHostLog.FolderStamped(logger, folder.Directory, FormatStamp.FileName);
        if (folder is { LockEnforced: false })
            NodeHostLog.FolderLockNotEnforced(logger, folder.Directory);
        var identity = new NodeIdentity(dataDirectory);
        // Disposing the engine (also after Ctrl+C / SIGTERM) takes the final checkpoint; a failed one makes the exit code 3.
        var engine = StorageEngineFactory.Create(new StorageOptions
        {
            Engine = engineName,
            DataDirectory = dataDirectory,
            MemoryBytes = ParseSize(parse.GetValue(memoryOption)!, "--memory"),
            ExpectedKeys = parse.GetValue(expectedKeysOption),
            ReserveBytes = ParseSize(parse.GetValue(reserveSpaceOption)!, "--reserve-space"),
            CheckpointInterval = checkpointSeconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(checkpointSeconds),
            LogSegmentBytes = folder?.Stamp.EffectiveLogSegmentBytes ?? FormatStamp.DefaultLogSegmentBytes,
            CompactMinBytes = ParseSize(parse.GetValue(compactMinSizeOption)!, "--compact-min-size"),
            CompactGrowthPercent = compactGrowth,
            Durability = parse.GetValue(durabilityOption) == "fsync" ? DurabilityMode.Fsync : DurabilityMode.None,
        }, loggerFactory);
        var options = new NodeOptions
        {
            RouterHost = parse.GetValue(transportOption) == "tcp6" && parse.GetValue(hostOption) == "127.0.0.1" ? "::1" : parse.GetValue(hostOption)!,
            Tls = parse.GetValue(transportOption) != "tls" ? null : new KvnDb.Protocol.Tls.TlsClientSettings
            {
                CaFile = parse.GetValue(tlsCaOption),
                PinnedSha256 = parse.GetValue(tlsPinOption),
                CertificateFile = parse.GetValue(tlsCertOption),
                KeyFile = parse.GetValue(tlsKeyOption),
            },
            RouterPort = parse.GetValue(portOption),
            Routers = parse.GetValue(routersOption) is { } routers ? RouterAddress.ParseList(routers) : [],
            Password = Secrets.Resolve(parse.GetValue(passwordOption), parse.GetValue(passwordFileOption), "KVNDB_NODE_PASSWORD") ?? "",
            RouterTimeout = routerTimeout == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(routerTimeout),
            ConnectTimeout = TimeSpan.FromSeconds(connectTimeout),
            // Stable across restarts without being stored: the same host and folder give the same name.
            Name = HelloRequest.CleanNodeName(parse.GetValue(nameOption)
                ?? $"{Environment.MachineName}:{(dataDirectory is null ? engineName : Path.GetFullPath(dataDirectory))}"),
            Group = parse.GetValue(groupOption) ?? HelloRequest.DefaultGroup,
            FrameCeiling = parse.GetValue(maxFrameOption) is { } maxFrame ? (int)Math.Min(int.MaxValue, ParseSize(maxFrame, "--max-frame")) : null,
            KeyCeiling = parse.GetValue(maxKeyOption) is { } maxKey ? (int)Math.Min(int.MaxValue, ParseSize(maxKey, "--max-key")) : null,
            IoEngine = parse.GetValue(ioEngineOption),
            BusyPoll = TimeSpan.FromMicroseconds(Math.Max(0, parse.GetValue(busyPollOption))),
        };
        try
        {
            await RunNodeAsync(engine, identity, options);
        }
        finally
        {
            var stopping = System.Diagnostics.Stopwatch.StartNew();
            await engine.DisposeAsync();
            NodeHostLog.StorageClosed(logger, stopping.ElapsedMilliseconds);
        }
        if (engine.Health.ShutdownFailure is { } failure)
        {
            NodeHostLog.FinalCheckpointFailed(logger, failure);
            return ExitFinalCheckpointFailed;
        }
        NodeHostLog.Stopped(logger);
        return 0;
    }
    catch (Exception ex) when (ex is NodeFatalException or DataFolderException or ArgumentException or FormatException or StorageUnavailableException)
    {
        NodeHostLog.Fatal(logger, ex.Message);
        return 1;
    }

    async Task RunNodeAsync(IStorageEngine engine, NodeIdentity identity, NodeOptions options)
    {
        if (identity.ResetAppliedNow)
            NodeHostLog.ResetApplied(logger, identity.ResetMarkerLocation, identity.NodeId, engine.Count);
        else if (identity.IsResetPending)
            NodeHostLog.ResetPending(logger, identity.ResetMarkerLocation);
        NodeHostLog.Starting(logger, options.Name, engine.Name, engine.Count, engine.LastSequence, identity.HistoryId, identity.NodeId);
        if (engine.MayHaveLostWrites)
            NodeHostLog.MayHaveLostWrites(logger);
        var node = new DatabaseNode(options, engine, identity, loggerFactory);
        await using var http = parse.GetValue(httpPortOption) is { } httpPort
            ? await NodeHttpServer.StartAsync(parse.GetValue(httpHostOption)!, httpPort, node, loggerFactory, cancellationToken)
            : null;
        if (http is not null)
            NodeHostLog.HttpListening(logger, parse.GetValue(httpHostOption)!, http.Port);
        await node.RunAsync(cancellationToken);
    }
});

var resetDataOption = new Option<string>("--data", "-d") { Description = "Data folder of the node to reset", Required = true };
var resetCommand = new Command("reset",
    "One-shot: at its next start the node takes a new identity and copies everything from a donor. Its data is kept until the " +
    "donor's snapshot replaces it, and it never serves (nor is adopted) before that sync completes. Restarts do not reset it again.")
{
    resetDataOption, verboseOption, logFileOption,
};
resetCommand.SetAction(parse =>
{
    using var loggerFactory = Logging.Create(parse.GetValue(verboseOption), parse.GetValue(logFileOption));
    var logger = loggerFactory.CreateLogger("kvndb-node");
    var directory = parse.GetValue(resetDataOption)!;
    try
    {
        var marker = new ResetMarker(directory);
        marker.Request();
        var holder = FolderLock.Holder(directory);
        NodeHostLog.ResetRequested(logger, marker.Location, holder is null ? "" : $"; a node runs on the folder now ({holder}): restart it for the reset to apply");
        return 0;
    }
    catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
    {
        NodeHostLog.ResetRequestFailed(logger, directory, ex.Message);
        return 1;
    }
});
root.Subcommands.Add(resetCommand);
// Ctrl+C / SIGTERM cancel the action's token; give the final checkpoint time to finish (the default is 2 s).
string[] arguments;
try
{
    arguments = ConfigFile.Apply(root, args);
}
catch (FormatException ex)
{
    await Console.Error.WriteLineAsync($"kvndb-node: {ex.Message}");
    return 1;
}
return await root.Parse(arguments).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromMinutes(2) });

static long ParseSize(string text, string option)
{
    try
    {
        return SizeParser.Parse(text);
    }
    catch (FormatException ex)
    {
        throw new ArgumentException($"{option}: {ex.Message}", ex);
    }
}

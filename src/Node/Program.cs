using System.CommandLine;
using KvnDb.Hosting;
using KvnDb.Node;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging;

var engineOption = new Option<string>("--engine", "-e")
{
    Description = $"Storage engine: {string.Join(", ", StorageEngineFactory.Names)}",
    DefaultValueFactory = _ => "ram",
};
var dataOption = new Option<string?>("--data", "-d") { Description = "Data folder (dir engine)" };
var hostOption = new Option<string>("--host") { Description = "Router host", DefaultValueFactory = _ => "127.0.0.1" };
var portOption = new Option<int>("--port") { Description = "Router port", DefaultValueFactory = _ => ProtocolLimits.DefaultPort };
var passwordOption = new Option<string?>("--password", "-p") { Description = "Router (node) password" };
var resetOption = new Option<bool>("--reset", "-r") { Description = "Wipe this node's data, copy everything from the other nodes, then serve" };
var transportOption = new Option<string>("--transport", "-t") { Description = "tcp, tcp6 or tls", DefaultValueFactory = _ => "tcp" };
transportOption.AcceptOnlyFromAmong("tcp", "tcp6", "tls");
var tlsCaOption = new Option<string?>("--tls-ca") { Description = "Verify the router's certificate against this CA (PEM)" };
var tlsPinOption = new Option<string?>("--tls-pin") { Description = "Accept only the router certificate with this SHA-256 (hex)" };
var tlsCertOption = new Option<string?>("--tls-cert") { Description = "Node certificate for a router that requires one" };
var tlsKeyOption = new Option<string?>("--tls-key") { Description = "Private key (PEM) of --tls-cert" };
var verboseOption = new Option<bool>("--verbose", "-v") { Description = "Debug logging" };
var logFileOption = new Option<string?>("--logfile", "-l") { Description = "Also log to FILE (rotated by size)" };

var root = new RootCommand("kvndb-node: a KvnDb database node. Connects to a kvndb-router and holds a full replica.")
{
    engineOption, dataOption, hostOption, portOption, passwordOption, resetOption,
    transportOption, tlsCaOption, tlsPinOption, tlsCertOption, tlsKeyOption, verboseOption, logFileOption,
};
root.SetAction(async (parse, cancellationToken) =>
{
    using var loggerFactory = Logging.Create(parse.GetValue(verboseOption), parse.GetValue(logFileOption));
    var logger = loggerFactory.CreateLogger("kvndb-node");
    try
    {
        await using var engine = StorageEngineFactory.Create(new StorageOptions
        {
            Engine = parse.GetValue(engineOption)!,
            DataDirectory = parse.GetValue(dataOption),
        });
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
            Password = parse.GetValue(passwordOption) ?? "",
        };
        var identity = new NodeIdentity(parse.GetValue(dataOption));
        if (parse.GetValue(resetOption))
        {
            logger.LogWarning("Reset: wiping {Count} keys; the node will copy its data from its peers", engine.Count);
            engine.Clear();
            identity.SetHistory(Guid.Empty);
        }
        logger.LogInformation("Node starting: engine {Engine}, {Count} keys, last sequence {LastSequence}, history {History}",
            engine.Name, engine.Count, engine.LastSequence, identity.HistoryId);
        await new DatabaseNode(options, engine, identity, loggerFactory).RunAsync(cancellationToken);
        logger.LogInformation("Node stopped");
        return 0;
    }
    catch (Exception ex) when (ex is NodeFatalException or ArgumentException)
    {
        logger.LogCritical("{Message}", ex.Message);
        return 1;
    }
});
return await root.Parse(args).InvokeAsync();

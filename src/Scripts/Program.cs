using System.CommandLine;
using System.Runtime.InteropServices;
using KvnDb.Hosting;
using KvnDb.Protocol;
using KvnDb.Scripts;
using Microsoft.Extensions.Logging;

var (hostArgs, scriptArgs) = ScriptArguments.Split(args);

var scriptArgument = new Argument<string>("script") { Description = "The .csx (C#) or .fsx (F#) file to run" };
var hostOption = new Option<string>("--host") { Description = "Router address", DefaultValueFactory = _ => "127.0.0.1" };
var portOption = new Option<int>("--port") { Description = "Router port", DefaultValueFactory = _ => ProtocolLimits.DefaultPort };
var routersOption = new Option<string?>("--routers") { Description = "The routers of a router group, host:port,host:port,... (the client finds the leader)" };
SharedOptions.ValidateWith(routersOption, text => RouterAddress.ParseList(text));
var passwordOption = new Option<string?>("--password", "-p") { Description = "Router password (default: $KVNDB_PASSWORD)" };
var cacheDirOption = new Option<string?>("--cache-dir") { Description = "Where compiled C# scripts are kept (default: $KVNDB_SCRIPT_CACHE or ~/.cache/kvndb-script)" };
var noCacheOption = new Option<bool>("--no-cache") { Description = "Compile the script even if a compiled copy is cached, and keep none" };
var verboseOption = SharedOptions.Verbose("Debug logging (compile and cache times, connection)");
var logFileOption = SharedOptions.LogFile("Also log to FILE");

var root = new RootCommand(
    "kvndb-script: runs a C# (.csx) or F# (.fsx) script against a KvnDb cluster. The script sees Kv (a connected client), " +
    "Args (the arguments after --), Log (a logger) and Cancellation (cancelled by Ctrl+C).\n" +
    "Usage: kvndb-script FILE [--host H] [--port P] [-p PASSWORD] [-- script args...]")
{
    scriptArgument, hostOption, portOption, routersOption, passwordOption, cacheDirOption, noCacheOption, verboseOption, logFileOption,
};
root.SetAction(async (parse, _) =>
{
    using var loggerFactory = Logging.Create(parse.GetValue(verboseOption), parse.GetValue(logFileOption));
    var options = new ScriptRunOptions
    {
        ScriptPath = parse.GetValue(scriptArgument)!,
        ScriptArgs = scriptArgs,
        Host = parse.GetValue(hostOption)!,
        Port = parse.GetValue(portOption),
        Routers = parse.GetValue(routersOption) is { } routers ? [.. RouterAddress.ParseList(routers).Select(r => r.ToString())] : [],
        Password = parse.GetValue(passwordOption) ?? Environment.GetEnvironmentVariable("KVNDB_PASSWORD") ?? "",
        CacheDirectory = parse.GetValue(noCacheOption) ? null : parse.GetValue(cacheDirOption) ?? ScriptRunOptions.DefaultCacheDirectory(),
    };

    // First Ctrl+C (or SIGTERM) cancels the script's token; a second one ends the process the default way.
    using var cancellation = new CancellationTokenSource();
    void OnSignal(PosixSignalContext context)
    {
        if (cancellation.IsCancellationRequested)
            return;
        context.Cancel = true;
        Console.Error.WriteLine("kvndb-script: cancelling (Ctrl+C again to abort)");
        cancellation.Cancel();
    }
    using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
    using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);

    return await new ScriptRunner(options, loggerFactory, Console.Error).RunAsync(cancellation.Token);
});
return await root.Parse(hostArgs).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null });

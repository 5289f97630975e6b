using System.CommandLine;
using KvnDb.Client;
using KvnDb.Hosting;
using KvnDb.Protocol;
using KvnDb.Protocol.Tls;

namespace KvnDb.Cli;

/// <summary>
/// <c>kvndb</c>: with no command, the interactive prompt; with one, runs it and exits
/// (0 done, 1 not found or error). Streams are parameters so tests can drive it.
/// </summary>
internal static class ConsoleApp
{
    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        var hostOption = new Option<string>("--host") { Description = "Router host", DefaultValueFactory = _ => "127.0.0.1", Recursive = true };
        var portOption = new Option<int>("--port") { Description = "Router port", DefaultValueFactory = _ => ProtocolLimits.DefaultPort, Recursive = true };
        var passwordOption = new Option<string?>("--password", "-p") { Description = "Router password", Recursive = true };
        var timeoutOption = new Option<double>("--timeout") { Description = "Request timeout in seconds", DefaultValueFactory = _ => 10, Recursive = true };

        var transportOption = SharedOptions.Transport(recursive: true);
        var tlsCaOption = SharedOptions.TlsCa(recursive: true);
        var tlsPinOption = SharedOptions.TlsPin(recursive: true);

        var root = new RootCommand("kvndb: the KvnDb console. Without a command: an interactive prompt.")
        {
            hostOption, portOption, passwordOption, timeoutOption, transportOption, tlsCaOption, tlsPinOption,
        };

        KvnDbClientOptions Options(ParseResult parse) => new()
        {
            Host = parse.GetValue(transportOption) == "tcp6" && parse.GetValue(hostOption) == "127.0.0.1" ? "::1" : parse.GetValue(hostOption)!,
            Tls = parse.GetValue(transportOption) != "tls" ? null : new TlsClientSettings
            {
                CaFile = parse.GetValue(tlsCaOption),
                PinnedSha256 = parse.GetValue(tlsPinOption),
            },
            Port = parse.GetValue(portOption),
            Password = parse.GetValue(passwordOption) ?? "",
            RequestTimeout = TimeSpan.FromSeconds(parse.GetValue(timeoutOption)),
            ConnectTimeout = TimeSpan.FromSeconds(parse.GetValue(timeoutOption)),
        };

        async Task<int> WithClientAsync(ParseResult parse, Func<KvnDbClient, Commands, Task<int>> action, CancellationToken cancellationToken)
        {
            try
            {
                await using var client = await KvnDbClient.ConnectAsync(Options(parse), cancellationToken);
                return await action(client, new Commands(client, output, error));
            }
            catch (KvnDbException ex)
            {
                await error.WriteLineAsync($"error: {ex.Message}");
                return 1;
            }
        }

        var keyArgument = new Argument<string>("KEY");
        var valueArgument = new Argument<string>("VALUE");
        var prefixArgument = new Argument<string>("PREFIX") { DefaultValueFactory = _ => "" };

        Command OneShot(string name, string description, params Argument[] arguments)
        {
            var command = new Command(name, description);
            foreach (var argument in arguments)
                command.Arguments.Add(argument);
            root.Subcommands.Add(command);
            return command;
        }

        OneShot("set", "Store VALUE under KEY", keyArgument, valueArgument).SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.RunAsync(["set", parse.GetValue(keyArgument)!, parse.GetValue(valueArgument)!], ct), ct));
        OneShot("get", "Print the value of KEY (exit code 1 when missing)", keyArgument).SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.RunAsync(["get", parse.GetValue(keyArgument)!], ct), ct));
        OneShot("del", "Delete KEY (exit code 1 when missing)", keyArgument).SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.RunAsync(["del", parse.GetValue(keyArgument)!], ct), ct));
        OneShot("exists", "Print whether KEY exists", keyArgument).SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.RunAsync(["exists", parse.GetValue(keyArgument)!], ct), ct));
        var byArgument = new Argument<string>("BY") { DefaultValueFactory = _ => "1" };
        var secondsArgument = new Argument<string>("SECONDS");
        var versionArgument = new Argument<string>("VERSION");
        OneShot("incr", "Add BY (default 1) to KEY's integer value and print the result", keyArgument, byArgument).SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.RunAsync(["incr", parse.GetValue(keyArgument)!, parse.GetValue(byArgument)!], ct), ct));
        OneShot("setnx", "Store VALUE only if KEY does not exist (exit code 1 when it does)", keyArgument, valueArgument).SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.RunAsync(["setnx", parse.GetValue(keyArgument)!, parse.GetValue(valueArgument)!], ct), ct));
        OneShot("expire", "KEY expires SECONDS from now (exit code 1 when missing)", keyArgument, secondsArgument).SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.RunAsync(["expire", parse.GetValue(keyArgument)!, parse.GetValue(secondsArgument)!], ct), ct));
        OneShot("persist", "Remove KEY's expiry", keyArgument).SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.RunAsync(["persist", parse.GetValue(keyArgument)!], ct), ct));
        OneShot("ttl", "Print the time KEY has left (exit code 1 when missing)", keyArgument).SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.RunAsync(["ttl", parse.GetValue(keyArgument)!], ct), ct));
        OneShot("getv", "Print KEY's value and version", keyArgument).SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.RunAsync(["getv", parse.GetValue(keyArgument)!], ct), ct));
        OneShot("cas", "Store VALUE only if KEY's version is still VERSION (0: absent); exit code 1 when it changed", keyArgument, versionArgument, valueArgument).SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.RunAsync(["cas", parse.GetValue(keyArgument)!, parse.GetValue(versionArgument)!, parse.GetValue(valueArgument)!], ct), ct));
        OneShot("keys", "List keys starting with PREFIX", prefixArgument).SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.ListKeysAsync(parse.GetValue(prefixArgument)!, 1, ct), ct));
        OneShot("ping", "Round trip to the router").SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.RunAsync(["ping"], ct), ct));
        OneShot("info", "Router and node status").SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.RunAsync(["info"], ct), ct));
        OneShot("digest", "Every node's keys, last sequence and digest; exit code 2 when serving replicas differ or an in-sync member is not serving").SetAction((parse, ct) =>
            WithClientAsync(parse, (_, c) => c.DigestAsync(ct), ct));

        root.SetAction((parse, ct) => WithClientAsync(parse, (client, _) =>
        {
            var interactive = ReferenceEquals(input, Console.In) && !Console.IsInputRedirected;
            var editor = interactive ? new LineEditor(HistoryFile()) : null;
            var options = Options(parse);
            return new InteractivePrompt(client, input, output, error, editor).RunAsync($"{options.Host}:{options.Port}", ct);
        }, ct));

        var config = new InvocationConfiguration { Output = output, Error = error };
        return await root.Parse(args).InvokeAsync(config);
    }

    private static string? HistoryFile()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".kvndb_history");
    }
}

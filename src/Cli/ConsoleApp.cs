using System.Text;
using KvnDb.Client;
using KvnDb.Protocol.Tls;

namespace KvnDb.Cli;

/// <summary>
/// <c>kvndb</c>: with no command, the interactive prompt; with one, runs it (<c>-r</c> times), prints
/// the reply and exits with its code (0; 1 error or nil; 2 unhealthy digest); <c>--stat</c> streams the
/// router's counters. Streams are parameters so tests can drive it.
/// </summary>
internal static class ConsoleApp
{
    /// <summary>For tests and callers that hold text streams (values are then decoded as UTF-8).</summary>
    public static Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error) =>
        RunAsync(args, new ConsoleInput(input), new ConsoleOutput(output), error, Environment.GetEnvironmentVariable, null, CancellationToken.None);

    public static async Task<int> RunAsync(string[] args, ConsoleInput input, ConsoleOutput output, TextWriter error,
        Func<string, string?> environment, CommandCancellation? cancellation, CancellationToken cancellationToken)
    {
        ConsoleSettings settings;
        try
        {
            settings = ConsoleSettings.Parse(args, environment);
        }
        catch (FormatException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
        if (settings.ShowHelp || settings.ShowVersion)
        {
            output.WriteLine(settings.ShowHelp ? ConsoleSettings.Usage : $"kvndb {typeof(ConsoleApp).Assembly.GetName().Version?.ToString(3)}");
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }
        if (settings.PasswordOnCommandLine && !settings.NoAuthWarning)
            await error.WriteLineAsync("Warning: a password given with -a is visible to other users (ps); prefer KVNDB_PASSWORD or --password-file.").ConfigureAwait(false);

        var words = settings.Command.Select(w => Encoding.UTF8.GetBytes(w)).ToList();
        if (settings.LastArgumentFromStdin)
        {
            if (words.Count == 0)
            {
                await error.WriteLineAsync("error: -x needs a command (kvndb -x set KEY < FILE)").ConfigureAwait(false);
                return 1;
            }
            words.Add(await input.ReadAllBytesAsync(cancellationToken).ConfigureAwait(false));
        }
        var options = Options(settings);
        try
        {
            await using var client = await KvnDbClient.ConnectAsync(options, cancellationToken).ConfigureAwait(false);
            var printer = new ReplyPrinter(output, error, settings.Output);
            if (settings.Stat)
            {
                using var running = cancellation?.BeginCommand(cancellationToken);
                return await new StatMode(client, output, settings.Interval ?? TimeSpan.FromSeconds(1)).RunAsync(running?.Token ?? cancellationToken).ConfigureAwait(false);
            }
            if (words.Count == 0)
            {
                var editor = input.IsTerminal && output.IsTerminal ? new LineEditor(new HistoryFile(HistoryFile.DefaultPath())) : null;
                return await new InteractivePrompt(client, input, printer, error, editor, cancellation)
                    .RunAsync($"{options.Host}:{options.Port}", cancellationToken).ConfigureAwait(false);
            }
            using var command = cancellation?.BeginCommand(cancellationToken);
            return await RepeatAsync(new Commands(client, printer), printer, words, settings, command?.Token ?? cancellationToken).ConfigureAwait(false);
        }
        catch (KvnDbException ex)
        {
            await error.WriteLineAsync($"error: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>Runs one command <c>-r</c> times, <c>-i</c> apart; the exit code is the worst reply's.</summary>
    private static async Task<int> RepeatAsync(Commands commands, ReplyPrinter printer, IReadOnlyList<byte[]> words, ConsoleSettings settings, CancellationToken cancellationToken)
    {
        var exit = 0;
        try
        {
            for (long i = 0; settings.Repeat < 0 || i < settings.Repeat; i++)
            {
                if (i > 0 && settings.Interval is { } interval && interval > TimeSpan.Zero)
                    await Task.Delay(interval, cancellationToken).ConfigureAwait(false);
                var reply = await commands.RunAsync(words, cancellationToken).ConfigureAwait(false);
                exit = Math.Max(exit, await printer.PrintAsync(reply, CancellationToken.None).ConfigureAwait(false));
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C ends a repeat (or a monitor) quietly.
        }
        return exit;
    }

    private static KvnDbClientOptions Options(ConsoleSettings settings) => new()
    {
        Host = settings.Transport == "tcp6" && settings.Host == "127.0.0.1" ? "::1" : settings.Host,
        Tls = settings.Transport != "tls" ? null : new TlsClientSettings { CaFile = settings.TlsCa, PinnedSha256 = settings.TlsPin },
        Port = settings.Port,
        Routers = settings.Routers,
        Password = settings.Password,
        RequestTimeout = settings.Timeout,
        ConnectTimeout = settings.Timeout,
    };
}

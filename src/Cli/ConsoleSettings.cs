using System.Globalization;
using KvnDb.Protocol;

namespace KvnDb.Cli;

/// <summary>
/// The console's command line, with redis-cli's habits: options first (<c>-h HOST -p PORT -a PASSWORD</c>,
/// <c>-x</c>, <c>-r N -i SECONDS</c>, <c>--raw</c>, <c>--csv</c>, <c>--stat</c>), then an optional command
/// and its arguments, taken as they are (a command word ends the options).
/// </summary>
internal sealed record ConsoleSettings
{
    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = ProtocolLimits.DefaultPort;

    /// <summary>The routers of a router group (<c>--routers h:p,h:p</c>); empty: <see cref="Host"/>:<see cref="Port"/>.</summary>
    public IReadOnlyList<string> Routers { get; init; } = [];

    /// <summary>From <c>-a</c>, else <c>--password-file</c>, else <c>$KVNDB_PASSWORD</c>, else none.</summary>
    public string Password { get; init; } = "";

    /// <summary>The password came from <c>-a</c>: visible to anyone running <c>ps</c>, which deserves a warning.</summary>
    public bool PasswordOnCommandLine { get; init; }

    public bool NoAuthWarning { get; init; }

    public string Transport { get; init; } = "tcp";

    public string? TlsCa { get; init; }

    public string? TlsPin { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary><c>-x</c>: the command's last argument is standard input, byte for byte.</summary>
    public bool LastArgumentFromStdin { get; init; }

    /// <summary><c>-r N</c>: run the command N times (-1: until stopped).</summary>
    public long Repeat { get; init; } = 1;

    /// <summary><c>-i SECONDS</c>: wait between repeats (and between <c>--stat</c> lines, default 1 s).</summary>
    public TimeSpan? Interval { get; init; }

    public OutputMode Output { get; init; } = OutputMode.Formatted;

    public bool Stat { get; init; }

    public bool ShowHelp { get; init; }

    public bool ShowVersion { get; init; }

    /// <summary>The command and its arguments; empty for the prompt.</summary>
    public IReadOnlyList<string> Command { get; init; } = [];

    public const string Usage = """
        Usage: kvndb [OPTIONS] [COMMAND [ARG...]]
        Without a command: the interactive prompt. With one: runs it, prints the reply, exits
        (0; 1 on an error or a (nil) reply; 2 when digest finds replicas that differ).

          -h, --host HOST         router host (default 127.0.0.1)
          -p, --port PORT         router port (default 54565)
          --routers H:P,H:P,...   the routers of a router group (the console finds the leader)
          -a, --password PASS     router password (visible in ps: prefer the two below)
          --password-file FILE    read the password from FILE (first line)
                                  (default: $KVNDB_PASSWORD)
          --no-auth-warning       no warning for -a
          -t, --transport T       tcp, tcp6 or tls (--tls-ca FILE or --tls-pin SHA256)
          --timeout SECONDS       request and connect timeout (default 10)
          -x                      read the last argument from standard input (kvndb -x set k < file)
          -r N                    run the command N times (-1: until Ctrl+C)
          -i SECONDS              wait between repeats (decimals allowed)
          --raw                   print values as raw bytes, one reply per line
          --no-raw                quoted, escaped values (the default)
          --csv                   print replies as CSV
          --stat                  a line a second: ops/s, keys, clients, nodes, lag (from info)
          --help                  this text (help at the prompt lists the commands)
          --version               the console's version

        Examples:
          kvndb -h 10.0.0.5 -p 54565 ping
          KVNDB_PASSWORD=secret kvndb set user:1 '{"name":"Ada"}'
          kvndb -x set blob < photo.jpg && kvndb --raw get blob > copy.jpg
          kvndb -r 5 -i 0.5 incr hits
          kvndb keys user:
          kvndb --stat
        """;

    /// <summary>Reads the command line; throws <see cref="FormatException"/> with a message for a bad one.</summary>
    public static ConsoleSettings Parse(IReadOnlyList<string> args, Func<string, string?> environment)
    {
        var settings = new ConsoleSettings();
        string? passwordFile = null;
        string? password = null;
        var i = 0;
        string Value(string option) =>
            i + 1 < args.Count ? args[++i] : throw new FormatException($"{option} needs a value (kvndb --help)");
        for (; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg == "--")
            {
                i++;
                break;
            }
            if (arg.Length < 2 || arg[0] != '-' || IsNumber(arg))
                break;
            switch (arg)
            {
                case "-h" or "--host": settings = settings with { Host = Value(arg) }; break;
                case "-p" or "--port": settings = settings with { Port = ParsePort(Value(arg)) }; break;
                case "--routers": settings = settings with { Routers = [.. RouterAddress.ParseList(Value(arg)).Select(r => r.ToString())] }; break;
                case "-a" or "--password" or "--pass": password = Value(arg); break;
                case "--password-file": passwordFile = Value(arg); break;
                case "--no-auth-warning": settings = settings with { NoAuthWarning = true }; break;
                case "-t" or "--transport":
                    var transport = Value(arg);
                    settings = transport is "tcp" or "tcp6" or "tls" ? settings with { Transport = transport } : throw new FormatException($"{arg}: tcp, tcp6 or tls, not '{transport}'");
                    break;
                case "--tls-ca": settings = settings with { TlsCa = Value(arg) }; break;
                case "--tls-pin": settings = settings with { TlsPin = Value(arg) }; break;
                case "--timeout": settings = settings with { Timeout = Seconds(arg, Value(arg), allowZero: false) }; break;
                case "-x": settings = settings with { LastArgumentFromStdin = true }; break;
                case "-r":
                    var repeat = Value(arg);
                    settings = long.TryParse(repeat, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var count) && count >= -1
                        ? settings with { Repeat = count } : throw new FormatException($"-r: a count (or -1 for ever), not '{repeat}'");
                    break;
                case "-i": settings = settings with { Interval = Seconds(arg, Value(arg), allowZero: true) }; break;
                case "--raw": settings = settings with { Output = OutputMode.Raw }; break;
                case "--no-raw": settings = settings with { Output = OutputMode.Formatted }; break;
                case "--csv": settings = settings with { Output = OutputMode.Csv }; break;
                case "--stat": settings = settings with { Stat = true }; break;
                case "--help" or "-?": settings = settings with { ShowHelp = true }; break;
                case "--version" or "-v": settings = settings with { ShowVersion = true }; break;
                default:
                    if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains('=', StringComparison.Ordinal))
                        throw new FormatException($"write '{arg.Replace("=", " ", StringComparison.Ordinal)}' ({arg[..arg.IndexOf('=', StringComparison.Ordinal)]} takes its value as the next word)");
                    throw new FormatException($"unknown option '{arg}' (kvndb --help)");
            }
        }
        settings = settings with { Command = [.. args.Skip(i)] };
        if (password is not null)
            return settings with { Password = password, PasswordOnCommandLine = true };
        if (passwordFile is not null)
            return settings with { Password = ReadPasswordFile(passwordFile) };
        return settings with { Password = environment("KVNDB_PASSWORD") ?? "" };
    }

    /// <summary>The first line of <paramref name="path"/>, without its line end: how secrets are kept out of <c>ps</c>.</summary>
    public static string ReadPasswordFile(string path)
    {
        try
        {
            using var reader = new StreamReader(path);
            return reader.ReadLine() ?? "";
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"--password-file {path}: {ex.Message}", ex);
        }
    }

    private static bool IsNumber(string arg) => double.TryParse(arg, NumberStyles.Float, CultureInfo.InvariantCulture, out _);

    private static int ParsePort(string text) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? port : throw new FormatException($"-p: a port number (1-65535), not '{text}'");

    private static TimeSpan Seconds(string option, string text, bool allowZero) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && double.IsFinite(seconds)
            && (seconds > 0 || (allowZero && seconds == 0)) && seconds < 1e9
            ? TimeSpan.FromSeconds(seconds) : throw new FormatException($"{option}: a number of seconds, not '{text}'");
}

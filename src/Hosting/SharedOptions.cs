using System.CommandLine;

namespace KvnDb.Hosting;

/// <summary>
/// The command-line options every KvnDb program shares, defined once: transport (<c>-t</c>), TLS
/// (<c>--tls-cert</c>, <c>--tls-key</c>, <c>--tls-ca</c>, <c>--tls-pin</c>) and logging (<c>-v</c>, <c>-l</c>).
/// Names, aliases, defaults and accepted values live here; a program may word the help for its role
/// (a router's certificate is not a node's).
/// </summary>
public static class SharedOptions
{
    /// <summary>The transports every program accepts for <c>-t</c>.</summary>
    public static readonly string[] Transports = ["tcp", "tcp6", "tls"];

    /// <summary><c>--transport</c>/<c>-t</c>: tcp (default), tcp6 or tls.</summary>
    public static Option<string> Transport(string description = "tcp, tcp6 or tls", bool recursive = false)
    {
        var option = new Option<string>("--transport", "-t") { Description = description, DefaultValueFactory = _ => "tcp", Recursive = recursive };
        option.AcceptOnlyFromAmong(Transports);
        return option;
    }

    /// <summary><c>--tls-cert</c>: this program's certificate.</summary>
    public static Option<string?> TlsCertificate(string description) => new("--tls-cert") { Description = description };

    /// <summary><c>--tls-key</c>: the private key of <c>--tls-cert</c>.</summary>
    public static Option<string?> TlsKey(string description = "Private key (PEM) of --tls-cert") => new("--tls-key") { Description = description };

    /// <summary><c>--tls-ca</c>: the CA certificates are checked against.</summary>
    public static Option<string?> TlsCa(string description = "Verify the router's certificate against this CA (PEM)", bool recursive = false) =>
        new("--tls-ca") { Description = description, Recursive = recursive };

    /// <summary><c>--tls-pin</c>: accept only the router certificate with this SHA-256.</summary>
    public static Option<string?> TlsPin(string description = "Accept only the router certificate with this SHA-256 (hex)", bool recursive = false) =>
        new("--tls-pin") { Description = description, Recursive = recursive };

    /// <summary><c>--verbose</c>/<c>-v</c>: debug logging.</summary>
    public static Option<bool> Verbose(string description = "Debug logging") => new("--verbose", "-v") { Description = description };

    /// <summary><c>--logfile</c>/<c>-l</c>: also log to a file.</summary>
    public static Option<string?> LogFile(string description = "Also log to FILE (rotated by size)") => new("--logfile", "-l") { Description = description };

    /// <summary>
    /// Makes a size option (<c>64m</c>, <c>1g</c>) a clear parse error when its value is no size or above
    /// <paramref name="max"/>, instead of an exception once the program runs.
    /// </summary>
    public static Option<string> ValidateSize(Option<string> option, long max = long.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string>();
            if (text is null)
                return;
            try
            {
                var size = SizeParser.Parse(text);
                if (size > max)
                    result.AddError($"{option.Name} {text}: at most {max} bytes");
            }
            catch (Exception ex) when (ex is FormatException or OverflowException)
            {
                result.AddError($"{option.Name}: {ex.Message}");
            }
        });
        return option;
    }

    /// <summary>Adds a validator that runs <paramref name="parse"/> on the value: its <see cref="FormatException"/> becomes a clean usage error.</summary>
    public static Option<string?> ValidateWith(Option<string?> option, Action<string> parse)
    {
        ArgumentNullException.ThrowIfNull(option);
        ArgumentNullException.ThrowIfNull(parse);
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is not { } text)
                return;
            try
            {
                parse(text);
            }
            catch (FormatException ex)
            {
                result.AddError($"{option.Name}: {ex.Message}");
            }
        });
        return option;
    }
}

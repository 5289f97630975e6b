using System.CommandLine;
using System.Text.Json;

namespace KvnDb.Hosting;

/// <summary>
/// <c>--config FILE</c> for the router and the node: the same settings as the long options, one per line,
/// <c>key = value</c> (the option's name without its dashes: <c>port = 54565</c>, <c>backlog = 256m</c>,
/// <c>password-file = /etc/kvndb/password</c>, <c>insecure = true</c>), <c>#</c> starts a comment; or a JSON
/// object of the same keys (<c>{"port": 54565, "insecure": true}</c>). An option given on the command line
/// wins over the file. An unknown key, a repeated one or a value that does not parse is an error naming the
/// file and line, before anything starts.
/// </summary>
public static class ConfigFile
{
    public const string OptionName = "--config";

    /// <summary>The <c>--config</c> option, so help lists it (the file is read by <see cref="Apply"/> before parsing).</summary>
    public static Option<string?> Option() =>
        new(OptionName) { Description = "Read settings from FILE: 'key = value' lines (or JSON) named as the long options; the command line wins" };

    /// <summary>
    /// The command line with the settings of its <c>--config</c> file put in front (those the command line
    /// does not set itself); the arguments unchanged without one, or when they start with a subcommand.
    /// Throws <see cref="FormatException"/> with the file and line for a bad file.
    /// </summary>
    public static string[] Apply(RootCommand root, string[] args)
    {
        ArgumentNullException.ThrowIfNull(root);
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length > 0 && root.Subcommands.Any(c => c.Name == args[0]))
            return args;
        var path = ConfigPath(args);
        if (path is null)
            return args;
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"--config {path}: {ex.Message}", ex);
        }
        var settings = text.TrimStart().StartsWith('{') ? ReadJson(path, text) : ReadLines(path, text);
        var given = new HashSet<string>(args.Select(a => a.Split('=', 2)[0]), StringComparer.Ordinal);
        var tokens = new List<string>();
        foreach (var (key, value, where) in settings)
        {
            var option = root.Options.FirstOrDefault(o => o.Name == "--" + key || o.Aliases.Contains("--" + key));
            if (option is null || option.Name == OptionName || option.Name == "--help")
                throw new FormatException($"{where}: unknown setting '{key}' (settings are the long options without their dashes: --port is 'port')");
            if (given.Contains(option.Name) || option.Aliases.Any(given.Contains))
                continue; // the command line wins
            if (option.ValueType == typeof(bool))
            {
                if (!bool.TryParse(value, out var on))
                    throw new FormatException($"{where}: '{key}' is true or false, not '{value}'");
                if (on)
                    tokens.Add(option.Name);
                continue;
            }
            tokens.Add(option.Name);
            tokens.Add(value);
        }
        return [.. tokens, .. args];
    }

    private static string? ConfigPath(string[] args)
    {
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i] == OptionName)
                return i + 1 < args.Length ? args[i + 1] : throw new FormatException("--config needs a FILE");
            if (args[i].StartsWith(OptionName + "=", StringComparison.Ordinal))
                return args[i][(OptionName.Length + 1)..];
        }
        return null;
    }

    private static List<(string Key, string Value, string Where)> ReadLines(string path, string text)
    {
        var settings = new List<(string, string, string)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var number = 0;
        foreach (var raw in text.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#')
                continue;
            var where = $"{path} line {number}";
            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
                throw new FormatException($"{where}: expected 'key = value', got '{line}'");
            var key = line[..equals].Trim().TrimStart('-');
            var value = Unquote(line[(equals + 1)..].Trim());
            if (!seen.Add(key))
                throw new FormatException($"{where}: '{key}' is set twice");
            settings.Add((key, value, where));
        }
        return settings;
    }

    private static List<(string Key, string Value, string Where)> ReadJson(string path, string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new FormatException($"{path}: a JSON config is one object of settings");
            var settings = new List<(string, string, string)>();
            foreach (var property in document.RootElement.EnumerateObject())
            {
                var value = property.Value.ValueKind switch
                {
                    JsonValueKind.String => property.Value.GetString()!,
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    JsonValueKind.Number => property.Value.GetRawText(),
                    _ => throw new FormatException($"{path}: '{property.Name}' must be a string, a number or true/false"),
                };
                settings.Add((property.Name.TrimStart('-'), value, $"{path} ('{property.Name}')"));
            }
            return settings;
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{path}: not valid JSON: {ex.Message}", ex);
        }
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0] ? value[1..^1] : value;
}

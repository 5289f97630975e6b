// Shared by the samples: positional arguments plus "--name value" options, with clear errors.
#nullable enable

/// <summary>The script's arguments: positional values, and --name value options.</summary>
sealed class SampleArgs
{
    private readonly Dictionary<string, string> _named = new(StringComparer.Ordinal);

    public SampleArgs(IList<string> args)
    {
        for (var i = 0; i < args.Count; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || args[i].Length == 2)
            {
                Positional.Add(args[i]);
                continue;
            }
            if (i + 1 >= args.Count)
                throw new ArgumentException($"{args[i]} needs a value");
            _named[args[i][2..]] = args[++i];
        }
    }

    public List<string> Positional { get; } = new();

    public string Get(string name, string fallback) => _named.TryGetValue(name, out var value) ? value : fallback;

    public string? Get(string name) => _named.GetValueOrDefault(name);

    public int GetInt(string name, int fallback)
    {
        if (!_named.TryGetValue(name, out var text))
            return fallback;
        return int.TryParse(text, out var value) && value > 0
            ? value
            : throw new ArgumentException($"--{name} must be a positive whole number, not '{text}'");
    }
}

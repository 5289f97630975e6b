namespace KvnDb.Scripts;

/// <summary>One run of kvndb-script, as the command line asked for it.</summary>
internal sealed record ScriptRunOptions
{
    public required string ScriptPath { get; init; }

    public IReadOnlyList<string> ScriptArgs { get; init; } = [];

    public string Host { get; init; } = "127.0.0.1";

    public int Port { get; init; } = KvnDb.Protocol.ProtocolLimits.DefaultPort;

    /// <summary>The routers of a router group (<c>--routers h:p,h:p</c>); empty: <see cref="Host"/>:<see cref="Port"/>.</summary>
    public IReadOnlyList<string> Routers { get; init; } = [];

    public string Password { get; init; } = "";

    /// <summary>Where compiled C# scripts are kept; null disables the cache.</summary>
    public string? CacheDirectory { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The cache folder used when none is given: $KVNDB_SCRIPT_CACHE, else $XDG_CACHE_HOME/kvndb-script, else ~/.cache/kvndb-script.</summary>
    public static string DefaultCacheDirectory()
    {
        var explicitDir = Environment.GetEnvironmentVariable("KVNDB_SCRIPT_CACHE");
        if (!string.IsNullOrEmpty(explicitDir))
            return explicitDir;
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "kvndb-script");
    }
}

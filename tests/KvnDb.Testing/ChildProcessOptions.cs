namespace KvnDb.Testing;

/// <summary>How a <see cref="ChildProcess"/> is started and what becomes of its output.</summary>
public sealed record ChildProcessOptions
{
    public string? WorkingDirectory { get; init; }

    /// <summary>Variables to set; a null value removes the variable from the inherited environment.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>Keep the output in memory (for assertions and failure messages); off for long runs that log to a file.</summary>
    public bool Capture { get; init; } = true;

    /// <summary>Called with every line of either stream, as it arrives (a log file, for instance).</summary>
    public Action<string>? OnLine { get; init; }
}

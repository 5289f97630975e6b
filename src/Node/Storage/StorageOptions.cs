namespace KvnDb.Node.Storage;

/// <summary>Which engine a node uses, where it keeps its files, and the <c>faster</c> engine's settings.</summary>
public sealed record StorageOptions
{
    public string Engine { get; init; } = "ram";

    public string? DataDirectory { get; init; }

    /// <summary>Memory budget of the <c>faster</c> engine (index + in-memory log + write-ahead-log buffer).</summary>
    public long MemoryBytes { get; init; } = FasterSizing.DefaultBudget;

    /// <summary>Time between periodic checkpoints of the <c>faster</c> engine (one is also taken at shutdown).</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(60);

    public DurabilityMode Durability { get; init; } = DurabilityMode.None;

    /// <summary>The clock of the periodic checkpoints (tests pass a fake one to tick it by hand).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

namespace KvnDb.Node.Storage;

/// <summary>Which engine a node uses, where it keeps its files, and the <c>faster</c> engine's settings.</summary>
public sealed record StorageOptions
{
    /// <summary>Space left free on the data folder's file system by default: writes are refused before it is used.</summary>
    public const long DefaultReserveBytes = 16L << 20;

    /// <summary>Keys the <c>faster</c> engine's hash index is sized for at first, by default (a 2 MiB index).</summary>
    public const long DefaultExpectedKeys = FasterSizing.DefaultExpectedKeys;

    public string Engine { get; init; } = "ram";

    public string? DataDirectory { get; init; }

    /// <summary>Memory budget of the <c>faster</c> engine (index + in-memory log + write-ahead-log buffer).</summary>
    public long MemoryBytes { get; init; } = FasterSizing.DefaultBudget;

    /// <summary>Keys the <c>faster</c> engine sizes its hash index for at first (it doubles the index as keys outgrow it).</summary>
    public long ExpectedKeys { get; init; } = FasterSizing.DefaultExpectedKeys;

    /// <summary>
    /// Space the engine leaves free on its data folder's file system (<c>--reserve-space</c>): a write that
    /// would leave less (counting what the store still owes the disk) is refused with <c>StorageUnavailable</c>.
    /// </summary>
    public long ReserveBytes { get; init; } = DefaultReserveBytes;

    /// <summary>
    /// Whether the <c>faster</c> engine refuses writes its disk could not hold (see <see cref="SpaceBudget"/>).
    /// Off only in tests that need a write to meet a real ENOSPC; the engine then detects the failed write instead.
    /// </summary>
    public bool CheckFreeSpace { get; init; } = true;

    /// <summary>Time between periodic checkpoints of the <c>faster</c> engine (one is also taken at shutdown).</summary>
    public TimeSpan CheckpointInterval { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long the final checkpoint at shutdown may take before the engine gives up on it and says so.</summary>
    public TimeSpan FinalCheckpointTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public DurabilityMode Durability { get; init; } = DurabilityMode.None;

    /// <summary>
    /// Size of the <c>faster</c> hybrid log's segment files, the unit in which compaction gives disk space back.
    /// Part of the folder's format (<see cref="FormatStamp.LogSegmentBytes"/>): the node takes it from the stamp.
    /// </summary>
    public long LogSegmentBytes { get; init; } = FormatStamp.DefaultLogSegmentBytes;

    /// <summary>
    /// Compaction of the <c>faster</c> log (<c>--compact-min-size</c>): never while the log on disk is smaller (0: never
    /// automatically). Like Redis's auto-aof-rewrite-min-size.
    /// </summary>
    public long CompactMinBytes { get; init; } = 64L << 20;

    /// <summary>
    /// Compaction starts once the log on disk has grown this many percent over its size after the last compaction
    /// (<c>--compact-growth</c>; 0: never automatically). Like Redis's auto-aof-rewrite-percentage.
    /// </summary>
    public int CompactGrowthPercent { get; init; } = 100;

    /// <summary>The clock of the periodic checkpoints (tests pass a fake one to tick it by hand).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}

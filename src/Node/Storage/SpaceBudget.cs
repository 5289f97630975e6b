namespace KvnDb.Node.Storage;

/// <summary>
/// Keeps the <c>faster</c> engine from taking writes its disk cannot hold. FASTER does not retry a page
/// write that failed: a store whose log met a full disk is stuck until it is reopened, and loses what
/// was only in memory. So a write is refused up front, before anything is applied, unless the file
/// system has room for everything the store owes it (log pages not yet on disk, the next index
/// checkpoint, checkpoint metadata), this write, and the reserve (<c>--reserve-space</c>).
/// Looking at the disk is a system call: a write takes from an allowance (half of the room found at the
/// last look, so other writers to the same disk are noticed before the reserve is eaten) and only an
/// exhausted allowance, or a look older than a second, looks again. Called under the engine's lock.
/// </summary>
internal sealed class SpaceBudget(StorageHealth health, Func<long> owedBytes, TimeProvider time)
{
    private static readonly TimeSpan MaxLookAge = TimeSpan.FromSeconds(1);

    /// <summary>Checkpoint metadata, the sector rounding of the last page, FASTER's small files.</summary>
    public const long CheckpointMargin = 1L << 20;

    private long _allowance;
    private long _lookedAt;

    /// <summary>
    /// Takes room for <paramref name="bytes"/> more; false, with the reason, when the disk cannot take them.
    /// <paramref name="flushSoon"/> says the store owes the disk more than half the room left: a checkpoint now
    /// writes it out while there is room, so writes are refused only when the disk itself is full.
    /// </summary>
    public bool TryTake(long bytes, out string? why, out bool flushSoon)
    {
        why = null;
        flushSoon = false;
        if (_allowance >= bytes && _lookedAt != 0 && time.GetElapsedTime(_lookedAt) < MaxLookAge)
        {
            _allowance -= bytes;
            return true;
        }
        var (free, owed) = Look();
        var room = free - health.ReserveBytes - owed - bytes;
        if (free >= 0 && room < 0)
        {
            _allowance = 0;
            flushSoon = true;
            why = $"the file system of {health.Directory} has {DiskSpace.Describe(free)} free; the store needs {DiskSpace.Describe(owed + bytes)} " +
                $"for what it holds only in memory, its next checkpoint and this write, and keeps {DiskSpace.Describe(health.ReserveBytes)} in reserve (--reserve-space). " +
                "Writes are refused until space returns";
            return false;
        }
        _allowance = free < 0 ? 64L << 20 : room / 2;
        flushSoon = free >= 0 && owed - CheckpointMargin > (free - health.ReserveBytes) / 2;
        return true;
    }

    /// <summary>True when a checkpoint can be written whole: what the store owes the disk plus a margin (the reserve may be used).</summary>
    public bool HasRoomForCheckpoint(out string? why)
    {
        why = null;
        var (free, owed) = Look();
        if (free < 0 || free >= owed)
            return true;
        why = $"a checkpoint needs {DiskSpace.Describe(owed)} and the file system of {health.Directory} has {DiskSpace.Describe(free)} free";
        return false;
    }

    /// <summary>Room beyond the reserve and all the store owes (for a probe to say the disk is usable again); -1 when unknown.</summary>
    public long Headroom()
    {
        var (free, owed) = Look();
        return free < 0 ? -1 : free - health.ReserveBytes - owed;
    }

    private (long Free, long Owed) Look()
    {
        _lookedAt = time.GetTimestamp();
        return (health.SampleFreeBytes(now: true), owedBytes() + CheckpointMargin);
    }
}

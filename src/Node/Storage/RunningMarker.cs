namespace KvnDb.Node.Storage;

/// <summary>
/// The <c>running</c> file in a data folder: present, the store is not known to hold every write it
/// acknowledged. With durability <c>none</c> it is written (fsynced) before the first write and removed
/// after the final checkpoint of a clean shutdown; found at start, the process that wrote it died before
/// that checkpoint, so writes acknowledged after the last checkpoint are gone. The store then stays
/// suspect (<see cref="MayHaveLostWrites"/>) until a sync completes, across restarts: a clean shutdown of a
/// suspect store keeps the file. With durability <c>fsync</c> nothing acknowledged is lost, so the file is
/// never written; one left by an earlier <c>none</c> run still counts, and goes after the next sync.
/// </summary>
internal sealed class RunningMarker(string directory, DurabilityMode durability)
{
    public const string FileName = "running";

    private readonly string _path = Path.Combine(directory, FileName);

    public bool MayHaveLostWrites { get; private set; }

    /// <summary>Reads what the previous process left and, with durability none, marks this one as running.</summary>
    public void Open()
    {
        MayHaveLostWrites = File.Exists(_path);
        if (durability == DurabilityMode.None && !MayHaveLostWrites)
            DurableFile.WriteAllText(_path, $"pid {Environment.ProcessId}, since {DateTimeOffset.UtcNow:O}\n");
    }

    /// <summary>A sync completed and is durable: the store holds every write again.</summary>
    public void ConfirmSynced()
    {
        if (!MayHaveLostWrites)
            return;
        MayHaveLostWrites = false;
        if (durability == DurabilityMode.Fsync)
            DurableFile.Delete(_path);
    }

    /// <summary>
    /// The store was reopened from its files while running (its disk failed): with durability none, what was
    /// only in memory is gone, as after a crash. The file is there already (written at open, or left by the
    /// previous run), so only the flag changes.
    /// </summary>
    public void LostWrites()
    {
        if (durability == DurabilityMode.None)
            MayHaveLostWrites = true;
    }

    /// <summary>The final checkpoint of a clean shutdown is on disk.</summary>
    public void CleanShutdown()
    {
        if (!MayHaveLostWrites)
            DurableFile.Delete(_path);
    }
}

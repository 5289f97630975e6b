namespace KvnDb.Node.Storage;

/// <summary>
/// A node's data folder, held for the life of the process and checked before any engine opens a file in
/// it: the exclusive <see cref="FolderLock"/>, then the <see cref="FormatStamp"/> (written to an empty
/// folder, required of one that holds anything). Dispose it after the engine (its final checkpoint).
/// </summary>
public sealed class DataFolder : IDisposable
{
    private readonly FolderLock _lock;

    private DataFolder(string directory, FolderLock folderLock, FormatStamp stamp, bool created)
    {
        Directory = directory;
        _lock = folderLock;
        Stamp = stamp;
        Created = created;
    }

    public string Directory { get; }

    public FormatStamp Stamp { get; }

    /// <summary>The folder was empty: this start stamped it.</summary>
    public bool Created { get; }

    /// <summary>False when the file system could not lock the folder (see <see cref="FolderLock.Enforced"/>).</summary>
    public bool LockEnforced => _lock.Enforced;

    /// <summary>Locks and checks the folder for <paramref name="engine"/>; throws <see cref="DataFolderException"/> with the reason to refuse.</summary>
    public static DataFolder Open(string directory, string engine)
    {
        System.IO.Directory.CreateDirectory(directory);
        var folderLock = FolderLock.Acquire(directory);
        try
        {
            var stamp = FormatStamp.Read(directory);
            if (stamp is not null)
            {
                if (stamp.Incompatibility(directory, engine) is { } why)
                    throw new DataFolderException(why);
                if (stamp.RecordLayout < FormatStamp.CurrentRecordLayout)
                {
                    // An older layout this build reads as it is: from now on the folder may hold the newer one,
                    // so an older build must refuse it.
                    stamp = stamp with { RecordLayout = FormatStamp.CurrentRecordLayout };
                    stamp.Write(directory);
                }
                return new DataFolder(directory, folderLock, stamp, created: false);
            }
            var existing = ExistingEntries(directory);
            if (existing.Count > 0)
                throw new DataFolderException(
                    $"{directory} holds data ({string.Join(", ", existing.Take(5))}) but no format stamp ({FormatStamp.FileName}): it was written by an " +
                    "older build, or is not a KvnDb folder, and this build cannot tell how to read it (keys could silently look missing). " +
                    "Move it aside and start the node on an empty folder: it copies everything from its peers");
            stamp = FormatStamp.Current(engine);
            stamp.Write(directory);
            return new DataFolder(directory, folderLock, stamp, created: true);
        }
        catch
        {
            folderLock.Dispose();
            throw;
        }
    }

    public void Dispose() => _lock.Dispose();

    /// <summary>What the folder holds besides the lock, a waiting reset request and a stamp torn before its rename.</summary>
    private static List<string> ExistingEntries(string directory) =>
        [.. System.IO.Directory.EnumerateFileSystemEntries(directory)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => name is not (FolderLock.FileName or ResetMarker.FileName or FormatStamp.FileName + ".tmp"))
            .Order(StringComparer.Ordinal)];
}

using System.Runtime.InteropServices;

namespace KvnDb.Router.Membership;

/// <summary>
/// Reads and writes <see cref="RouterMetadata"/> in <c>DIR/metadata.json</c>: written to a temporary
/// file, fsynced, renamed over the old one, then the folder fsynced, so a crash leaves either the old
/// or the new file, never a torn one. Without a folder (embedded use, tests) it lives in memory only.
/// The store of a single router (no <c>--raft-port</c>).
/// </summary>
internal sealed class FileMetadataStore : IMetadataStore
{
    private readonly string? _file;

    public FileMetadataStore(string? directory)
    {
        if (directory is null)
            return;
        Directory.CreateDirectory(directory);
        _file = Path.Combine(directory, "metadata.json");
    }

    public string Location => _file ?? "(memory)";

    public RouterMetadata Load()
    {
        if (_file is null || !File.Exists(_file))
            return new RouterMetadata();
        return RouterMetadataJson.Deserialize(File.ReadAllBytes(_file), _file);
    }

    public ValueTask SaveAsync(RouterMetadata metadata, CancellationToken cancellationToken = default)
    {
        Save(metadata);
        return ValueTask.CompletedTask;
    }

    /// <summary>Durably replaces the file; returns once the change survives a crash.</summary>
    public void Save(RouterMetadata metadata)
    {
        if (_file is null)
            return;
        var temporary = _file + ".tmp";
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            RouterMetadataJson.Serialize(stream, metadata);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temporary, _file, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(_file)!);
    }

    /// <summary>Makes the rename itself durable (POSIX: fsync of the containing folder).</summary>
    private static void SyncDirectory(string directory)
    {
        if (OperatingSystem.IsWindows())
            return;
        var fd = NativeMethods.open(directory, 0);
        if (fd < 0)
            throw new IOException($"cannot open {directory} to fsync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (NativeMethods.fsync(fd) != 0)
                throw new IOException($"fsync of {directory} failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = NativeMethods.close(fd);
        }
    }

    private static class NativeMethods
    {
        // The path is marshalled as UTF-8, so no best-fit mapping can apply; saying so is what CA2101 looks for.
        [DllImport("libc", SetLastError = true, BestFitMapping = false)]
        public static extern int open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int fsync(int fd);

        [DllImport("libc")]
        public static extern int close(int fd);
    }
}

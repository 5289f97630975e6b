using System.Runtime.InteropServices;
using System.Text;

namespace KvnDb.Node.Storage;

/// <summary>
/// Small files that must survive a crash or power loss exactly as written (node id, history, the
/// running marker): written to a temporary file, fsynced, renamed over the target, and the folder
/// fsynced so the rename itself is on disk.
/// </summary>
internal static partial class DurableFile
{
    public static void WriteAllText(string path, string text)
    {
        var temporary = path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(Encoding.UTF8.GetBytes(text));
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, path, overwrite: true);
        SyncDirectoryOf(path);
    }

    /// <summary>Reads the file's text, or null when it does not exist.</summary>
    public static string? ReadAllText(string path) => File.Exists(path) ? File.ReadAllText(path) : null;

    public static void Delete(string path)
    {
        if (!File.Exists(path))
            return;
        File.Delete(path);
        SyncDirectoryOf(path);
    }

    /// <summary>fsync of the folder (POSIX only: Windows makes the rename durable with the file).</summary>
    private static void SyncDirectoryOf(string path)
    {
        if (OperatingSystem.IsWindows())
            return;
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        var descriptor = Open(directory, 0 /* O_RDONLY */);
        if (descriptor < 0)
            throw new IOException($"cannot open {directory} to sync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(descriptor) != 0)
                throw new IOException($"fsync of {directory} failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int descriptor);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int descriptor);
}

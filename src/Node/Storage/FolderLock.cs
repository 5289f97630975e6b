using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace KvnDb.Node.Storage;

/// <summary>
/// <c>DIR/lock</c>, held for the life of the node so that a second node on the same folder refuses to start.
/// The OS lock is what counts, not the file: <c>flock(LOCK_EX)</c> on Linux and macOS (what .NET takes for
/// <see cref="FileShare.None"/>, taken again here by hand because .NET skips it when
/// <c>DOTNET_SYSTEM_IO_DISABLEFILELOCKING</c> is set), a sharing lock on Windows. It goes with the process,
/// <c>kill -9</c> included, so a file left by a dead node locks nothing. The file names the holder (pid,
/// start time, host) for the refusal message; it is never deleted, which would let two nodes lock two files.
/// </summary>
public sealed partial class FolderLock : IDisposable
{
    public const string FileName = "lock";

    private const int LockExclusive = 2;
    private const int LockNonBlocking = 4;

    private readonly FileStream _file;

    private FolderLock(FileStream file, bool enforced)
    {
        _file = file;
        Enforced = enforced;
    }

    /// <summary>False on a file system that offers no lock (some network file systems): nothing stops a second node there.</summary>
    public bool Enforced { get; }

    /// <summary>Locks the folder; throws <see cref="DataFolderException"/> naming the holder when another process has it.</summary>
    public static FolderLock Acquire(string directory)
    {
        var path = Path.Combine(directory, FileName);
        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex) when (ex is not (FileNotFoundException or DirectoryNotFoundException))
        {
            throw Held(directory, path, ex.Message);
        }
        try
        {
            var enforced = true;
            if (!OperatingSystem.IsWindows() && Flock(file.SafeFileHandle, LockExclusive | LockNonBlocking) != 0)
            {
                var errno = Marshal.GetLastPInvokeError();
                if (errno == WouldBlock)
                    throw Held(directory, path, $"flock: errno {errno}");
                enforced = false; // ENOLCK, ENOTSUP...: the file system cannot lock
            }
            file.SetLength(0);
            file.Write(Encoding.UTF8.GetBytes($"pid {Environment.ProcessId}\nstarted {DateTimeOffset.UtcNow:O}\nhost {Environment.MachineName}\n"));
            file.Flush(flushToDisk: true);
            return new FolderLock(file, enforced);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Who holds the folder's lock right now ("pid 123, started …"), or null when nobody does.</summary>
    public static string? Holder(string directory)
    {
        try
        {
            using var probe = Acquire(directory);
            return null;
        }
        catch (DataFolderException)
        {
            return ReadHolder(Path.Combine(directory, FileName)) ?? "another process";
        }
    }

    public void Dispose() => _file.Dispose();

    private static DataFolderException Held(string directory, string path, string reason)
    {
        var holder = ReadHolder(path);
        return new DataFolderException(
            $"the data folder {directory} is in use by another kvndb-node ({holder ?? $"holder unknown: {reason}"}; lock file {path}): " +
            "two nodes on one folder would corrupt it. Stop that node first, or give this one another --data");
    }

    /// <summary>
    /// The holder's description from the lock file, read with plain <c>open</c>/<c>read</c>: a .NET open would
    /// ask for a shared lock, which the holder's exclusive one refuses.
    /// </summary>
    private static string? ReadHolder(string path)
    {
        if (OperatingSystem.IsWindows())
            return null;
        var descriptor = Open(path, 0 /* O_RDONLY */);
        if (descriptor < 0)
            return null;
        try
        {
            var buffer = new byte[512];
            var read = (int)Read(descriptor, buffer, buffer.Length);
            if (read <= 0)
                return null;
            var lines = Encoding.UTF8.GetString(buffer, 0, read).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return lines.Length == 0 ? null : string.Join(", ", lines);
        }
        finally
        {
            _ = Close(descriptor);
        }
    }

    private static int WouldBlock => OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD() ? 35 : 11;

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeFileHandle handle, int operation);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(int descriptor, [Out] byte[] buffer, nint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int descriptor);
}

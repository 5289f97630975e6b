using System.Globalization;
using System.Runtime.InteropServices;

namespace KvnDb.Node.Storage;

/// <summary>Free space of the file system that holds a folder, and how a disk-full error looks.</summary>
public static class DiskSpace
{
    private const int ENOSPC = 28;          // Linux, macOS
    private const int ERROR_DISK_FULL = 112; // Windows
    private const int ERROR_HANDLE_DISK_FULL = 39;

    /// <summary>Bytes an unprivileged process may still write on the file system of <paramref name="directory"/>; -1 when it cannot be told.</summary>
    public static long FreeBytes(string directory)
    {
        try
        {
            // On Unix DriveInfo takes any path and asks statvfs about the file system holding it.
            return new DriveInfo(Path.GetFullPath(directory)).AvailableFreeSpace;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException)
        {
            return -1;
        }
    }

    /// <summary>True for the exceptions a full disk throws (.NET puts errno, or the Windows error, in the low bits of HResult).</summary>
    public static bool IsDiskFull(Exception exception) =>
        exception is StorageUnavailableException
        || exception is IOException { HResult: var result } && (result & 0xFFFF) is ENOSPC or ERROR_DISK_FULL or ERROR_HANDLE_DISK_FULL;

    /// <summary>The system's text for an I/O error code as FASTER's devices report it (errno or Windows error).</summary>
    public static string DescribeError(uint code) =>
        code is 0 or uint.MaxValue ? "an I/O error" : $"{Marshal.GetPInvokeErrorMessage((int)code)} (error {code})";

    /// <summary>Sizes for messages: 1.5 MiB, 20 KiB, 12 bytes.</summary>
    public static string Describe(long bytes) => bytes switch
    {
        < 0 => "unknown",
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.#} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.#} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 10):0.#} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };
}

using System.Globalization;
using KvnDb.FaultTests.Network;

namespace KvnDb.FaultTests.Storage;

/// <summary>
/// A small tmpfs of its own, to fill a node's disk for real: mounted on a fresh folder, resized in place
/// (<c>mount -o remount,size=</c>: space returns without touching the files), unmounted on dispose. Needs root.
/// </summary>
internal sealed class TmpfsMount : IAsyncDisposable
{
    private TmpfsMount(string path) => Path = path;

    public string Path { get; }

    /// <summary>Why tmpfs tests cannot run here, or null.</summary>
    public static async Task<string?> UnavailableReasonAsync()
    {
        if (!OperatingSystem.IsLinux())
            return "tmpfs tests need Linux";
        if (Native.geteuid() != 0)
            return "full-disk tests mount a tmpfs: they need root (CI runs them as root)";
        try
        {
            await using var probe = await MountAsync(1L << 20).ConfigureAwait(false);
            return null;
        }
        catch (InvalidOperationException ex)
        {
            return $"cannot mount a tmpfs: {ex.Message}";
        }
    }

    public static async Task<TmpfsMount> MountAsync(long bytes)
    {
        var path = Directory.CreateTempSubdirectory("kvndb-tmpfs-").FullName;
        var (exitCode, _, error) = await Shell.TryRunAsync("mount", "-t", "tmpfs", "-o", $"size={Kib(bytes)}k", "tmpfs", path).ConfigureAwait(false);
        if (exitCode != 0)
        {
            Directory.Delete(path);
            throw new InvalidOperationException(error.Trim());
        }
        return new TmpfsMount(path);
    }

    /// <summary>A new size for the mounted file system; its files stay.</summary>
    public Task ResizeAsync(long bytes) => Shell.RunAsync("mount", "-o", $"remount,size={Kib(bytes)}k", Path);

    public string PathOf(string relative) => System.IO.Path.Combine(Path, relative);

    /// <summary>Writes a file of zeros until the file system is full (or <paramref name="limit"/> bytes); returns its size.</summary>
    public long Fill(string name, long limit = long.MaxValue)
    {
        var buffer = new byte[64 << 10];
        long written = 0;
        using var file = new FileStream(PathOf(name), FileMode.Create, FileAccess.Write, FileShare.None, 1, FileOptions.WriteThrough);
        try
        {
            while (written < limit)
            {
                var chunk = (int)Math.Min(buffer.Length, limit - written);
                file.Write(buffer, 0, chunk);
                written += chunk;
            }
        }
        catch (IOException)
        {
            // full: what was written stays
        }
        return written;
    }

    public async ValueTask DisposeAsync()
    {
        await Shell.TryRunAsync("umount", "-l", Path).ConfigureAwait(false);
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string Kib(long bytes) => (bytes >> 10).ToString(CultureInfo.InvariantCulture);
}

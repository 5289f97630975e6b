using System.Diagnostics;
using System.Globalization;

namespace KvnDb.Testing;

/// <summary>What a folder takes on disk: the blocks its files occupy (as <c>du</c> counts them), and their apparent sizes.</summary>
public static class DiskUsage
{
    /// <summary>Bytes of the blocks allocated to the files under <paramref name="path"/> (sparse regions cost nothing), by <c>du -sB1</c>.</summary>
    public static long AllocatedBytes(string path)
    {
        using var du = Process.Start(new ProcessStartInfo("du") { ArgumentList = { "-sB1", path }, RedirectStandardOutput = true, UseShellExecute = false })!;
        var output = du.StandardOutput.ReadToEnd();
        if (!du.WaitForExit(TimeSpan.FromSeconds(20)) || du.ExitCode != 0)
            throw new InvalidOperationException($"du -sB1 {path} failed: {output}");
        return long.Parse(output.Split('\t', 2)[0], CultureInfo.InvariantCulture);
    }

    /// <summary>Sum of the lengths of the files under <paramref name="path"/> (a sparse file counts whole).</summary>
    public static long ApparentBytes(string path) =>
        new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    /// <summary>The largest files under <paramref name="path"/>, for a failure message.</summary>
    public static string Largest(string path, int count = 8) =>
        string.Join(", ", new DirectoryInfo(path).EnumerateFiles("*", SearchOption.AllDirectories)
            .OrderByDescending(f => f.Length).Take(count)
            .Select(f => $"{Path.GetRelativePath(path, f.FullName)} {f.Length}"));
}

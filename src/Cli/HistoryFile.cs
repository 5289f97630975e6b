namespace KvnDb.Cli;

/// <summary>
/// The prompt's history, <c>~/.kvndb_history</c>: private to its owner (mode 0600, as a shell's), since
/// lines may hold keys and values. A wider file found is narrowed; an unwritable one only loses history.
/// </summary>
internal sealed class HistoryFile(string? path)
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    public static string? DefaultPath()
    {
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".kvndb_history");
    }

    public IEnumerable<string> Load(int max)
    {
        if (path is null || !File.Exists(path))
            return [];
        try
        {
            Narrow();
            return File.ReadLines(path).TakeLast(max).ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    public void Append(string line)
    {
        if (path is null)
            return;
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.ReadWrite };
            if (!OperatingSystem.IsWindows())
                options.UnixCreateMode = OwnerOnly;
            using (var stream = new FileStream(path, options))
            using (var writer = new StreamWriter(stream))
                writer.WriteLine(line);
            Narrow();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // History is a convenience; an unwritable file must not break the prompt.
        }
    }

    private void Narrow()
    {
        if (path is null || OperatingSystem.IsWindows())
            return;
        if ((File.GetUnixFileMode(path) & ~OwnerOnly) != 0)
            File.SetUnixFileMode(path, OwnerOnly);
    }
}

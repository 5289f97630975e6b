using System.Globalization;

namespace KvnDb.Node.Storage;

/// <summary>
/// The order in which the <c>faster</c> engine's checkpoints completed, kept in
/// <c>checkpoints/completed</c>. FASTER recovers the newest readable checkpoint by folder modification
/// time, which a copy of the data folder may reset. Before recovery the engine puts the folder times
/// back in completion order, so FASTER picks the checkpoint that really is the newest.
/// </summary>
internal sealed class CheckpointOrder(string checkpointsDirectory)
{
    private readonly string _file = Path.Combine(checkpointsDirectory, "completed");
    private readonly string _logCheckpoints = Path.Combine(checkpointsDirectory, "cpr-checkpoints");

    /// <summary>Records a completed checkpoint; keeps only tokens whose folders still exist.</summary>
    public void Completed(Guid token)
    {
        var tokens = Read().Append(token).Where(t => Directory.Exists(FolderOf(t))).Distinct().ToList();
        var temporary = _file + ".tmp";
        File.WriteAllLines(temporary, tokens.Select(t => t.ToString()));
        File.Move(temporary, _file, overwrite: true);
    }

    /// <summary>
    /// Gives listed checkpoints increasing folder times in completion order. Unlisted ones (completed just
    /// before a crash could record them) count as newest; FASTER skips any whose metadata is torn.
    /// </summary>
    public void RestoreFolderTimes()
    {
        if (!Directory.Exists(_logCheckpoints))
            return;
        var listed = Read();
        var oldest = DateTime.UtcNow.AddDays(-1);
        for (var i = 0; i < listed.Count; i++)
        {
            if (Directory.Exists(FolderOf(listed[i])))
                Directory.SetLastWriteTimeUtc(FolderOf(listed[i]), oldest.AddSeconds(i));
        }
        foreach (var folder in Directory.GetDirectories(_logCheckpoints))
        {
            if (Guid.TryParse(Path.GetFileName(folder), out var token) && !listed.Contains(token))
                Directory.SetLastWriteTimeUtc(folder, DateTime.UtcNow);
        }
    }

    private List<Guid> Read()
    {
        if (!File.Exists(_file))
            return [];
        return File.ReadAllLines(_file)
            .Select(line => Guid.TryParse(line, CultureInfo.InvariantCulture, out var token) ? token : Guid.Empty)
            .Where(token => token != Guid.Empty)
            .ToList();
    }

    private string FolderOf(Guid token) => Path.Combine(_logCheckpoints, token.ToString());
}

namespace KvnDb.Node;

/// <summary>
/// The history the node's data belongs to (see DESIGN.md section 3): set by the router when the node
/// joins, reported in every hello with the last sequence. Kept in <c>DIR/history</c> for engines with
/// a data folder (replaced atomically), in memory otherwise.
/// </summary>
public sealed class NodeIdentity
{
    private readonly string? _file;

    public NodeIdentity(string? dataDirectory)
    {
        if (dataDirectory is null)
            return;
        Directory.CreateDirectory(dataDirectory);
        _file = Path.Combine(dataDirectory, "history");
        if (File.Exists(_file) && Guid.TryParse(File.ReadAllText(_file).Trim(), out var history))
            HistoryId = history;
    }

    public Guid HistoryId { get; private set; }

    public void SetHistory(Guid historyId)
    {
        if (historyId == HistoryId)
            return;
        HistoryId = historyId;
        if (_file is null)
            return;
        var temporary = _file + ".tmp";
        File.WriteAllText(temporary, historyId.ToString());
        File.Move(temporary, _file, overwrite: true);
    }
}

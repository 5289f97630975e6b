using KvnDb.Node.Storage;

namespace KvnDb.Node;

/// <summary>
/// The <c>reset</c> file in a data folder: the operator asked (<c>kvndb-node reset --data DIR</c>) that this
/// node copy everything from a donor. A one-shot request, not a start flag, so a supervisor restarting the
/// node with the same arguments never resets it again. The next start applies it once (a new node id, no
/// history) and records that id in the file; the file then stays, and the node says in its hello that it
/// was reset (never a source of truth), until a sync has completed and is durable. The data is not wiped:
/// the donor's snapshot replaces it during the sync (a full sync never wipes first).
/// </summary>
public sealed class ResetMarker(string directory)
{
    public const string FileName = "reset";

    private const string NodeIdPrefix = "node-id ";

    private readonly string _path = Path.Combine(directory, FileName);

    public string Location => _path;

    public bool Exists => File.Exists(_path);

    /// <summary>The node id the request was applied with, or null while it waits for the next start.</summary>
    public Guid? AppliedNodeId
    {
        get
        {
            foreach (var line in (DurableFile.ReadAllText(_path) ?? "").Split('\n'))
            {
                if (line.StartsWith(NodeIdPrefix, StringComparison.Ordinal) && Guid.TryParse(line.AsSpan(NodeIdPrefix.Length).Trim(), out var id))
                    return id;
            }
            return null;
        }
    }

    /// <summary>Asks for a reset at the next start (the folder must exist); a request already waiting stays as it is.</summary>
    public void Request()
    {
        if (!Directory.Exists(directory))
            throw new DirectoryNotFoundException($"no data folder {directory}");
        if (Exists && AppliedNodeId is null)
            return;
        DurableFile.WriteAllText(_path, $"reset requested {DateTimeOffset.UtcNow:O} by pid {Environment.ProcessId}\n");
    }

    /// <summary>The start applied the request under this new node id: restarts before the sync completes keep it.</summary>
    public void MarkApplied(Guid nodeId) =>
        DurableFile.WriteAllText(_path, $"{(DurableFile.ReadAllText(_path) ?? "").TrimEnd('\n')}\n{NodeIdPrefix}{nodeId}\n");

    /// <summary>A sync completed: the node holds its donor's data, the reset is done.</summary>
    public void Complete() => DurableFile.Delete(_path);
}

namespace KvnDb.Scripts;

/// <summary>A file and the SHA-256 of its content.</summary>
internal sealed record FileStamp(string Path, string Sha256)
{
    public static FileStamp Of(string path) => new(path, ScriptCache.HashFile(path));

    public bool IsCurrent() => File.Exists(Path) && ScriptCache.HashFile(Path) == Sha256;
}

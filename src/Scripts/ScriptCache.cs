using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace KvnDb.Scripts;

/// <summary>
/// Compiled C# scripts on disk, one folder per key. The key hashes the script's path and content and
/// the host's build; the manifest lists every other file the compilation read, checked on each hit.
/// </summary>
internal sealed class ScriptCache(string directory)
{
    private const string AssemblyFile = "script.dll";
    private const string ManifestFile = "manifest.json";

    /// <summary>Entries unused for this long are removed when a new one is stored.</summary>
    private static readonly TimeSpan MaxUnusedAge = TimeSpan.FromDays(30);

    /// <summary>Staging folders older than this were left by a crashed or racing run.</summary>
    private static readonly TimeSpan MaxStagingAge = TimeSpan.FromHours(1);

    // A rebuilt host or client changes these ids, so scripts compiled against the old ones are not reused.
    private static readonly string HostStamp = string.Join(",", HostReferences.Assemblies.Select(a => a.ManifestModule.ModuleVersionId));

    public string Directory { get; } = directory;

    public static string KeyOf(string scriptPath, string content)
    {
        var text = $"{HostStamp}\n{scriptPath}\n{content}";
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
    }

    public static string HashFile(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>The cached assembly path and manifest for <paramref name="key"/>, when present and still current.</summary>
    public (string AssemblyPath, ScriptManifest Manifest)? TryGet(string key)
    {
        var folder = Path.Combine(Directory, key);
        var assemblyPath = Path.Combine(folder, AssemblyFile);
        var manifestPath = Path.Combine(folder, ManifestFile);
        if (!File.Exists(assemblyPath) || !File.Exists(manifestPath))
            return null;
        try
        {
            var manifest = JsonSerializer.Deserialize<ScriptManifest>(File.ReadAllText(manifestPath));
            if (manifest is null || !manifest.Dependencies.All(d => d.IsCurrent()))
                return null;
            File.SetLastWriteTimeUtc(manifestPath, DateTime.UtcNow); // marks the entry as used, for pruning
            return (assemblyPath, manifest);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Stores a compiled script; the folder appears whole or not at all (written aside, then renamed).</summary>
    public string Store(string key, ReadOnlySpan<byte> assembly, ScriptManifest manifest)
    {
        System.IO.Directory.CreateDirectory(Directory);
        Prune();
        var folder = Path.Combine(Directory, key);
        var staging = Path.Combine(Directory, $".{key}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(staging);
        File.WriteAllBytes(Path.Combine(staging, AssemblyFile), assembly);
        File.WriteAllText(Path.Combine(staging, ManifestFile), JsonSerializer.Serialize(manifest));
        try
        {
            if (System.IO.Directory.Exists(folder))
                System.IO.Directory.Delete(folder, recursive: true);
            System.IO.Directory.Move(staging, folder);
        }
        catch (IOException)
        {
            // Another run stored the same key at the same moment (or a stale folder is in use): keep
            // our staged copy as the one this run loads.
            return Path.Combine(staging, AssemblyFile);
        }
        return Path.Combine(folder, AssemblyFile);
    }

    /// <summary>Removes entries not used for <see cref="MaxUnusedAge"/> and stale staging folders; best effort.</summary>
    private void Prune()
    {
        var now = DateTime.UtcNow;
        foreach (var folder in new DirectoryInfo(Directory).EnumerateDirectories())
        {
            try
            {
                var staging = folder.Name.StartsWith('.');
                var lastUse = staging ? folder.CreationTimeUtc : File.GetLastWriteTimeUtc(Path.Combine(folder.FullName, ManifestFile));
                if (now - lastUse > (staging ? MaxStagingAge : MaxUnusedAge))
                    folder.Delete(recursive: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Another run may be using or removing it.
            }
        }
    }
}

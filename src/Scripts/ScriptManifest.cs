namespace KvnDb.Scripts;

/// <summary>What the cache keeps beside a compiled script: how to start it and what it was built from.</summary>
internal sealed record ScriptManifest
{
    /// <summary>Metadata name of the submission type holding the entry point.</summary>
    public required string TypeName { get; init; }

    public required string MethodName { get; init; }

    /// <summary>Files besides the main script (<c>#load</c>ed sources, <c>#r</c>ed assemblies) and their hashes; any change recompiles.</summary>
    public required List<FileStamp> Dependencies { get; init; }

    /// <summary>Assemblies referenced with <c>#r</c>, loaded on demand when the script runs.</summary>
    public required List<string> References { get; init; }
}

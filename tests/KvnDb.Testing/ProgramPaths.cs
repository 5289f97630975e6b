namespace KvnDb.Testing;

/// <summary>
/// Finds a KvnDb program in its own project's build output. Programs run from there, not from the
/// test folder: the test folder resolves shared-framework assemblies (ASP.NET Core) that a
/// program's own runtime configuration does not include.
/// </summary>
public static class ProgramPaths
{
    /// <summary>The repository's root: the first folder above the running program's output that holds KvnDb.sln.</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>Path of the apphost for <paramref name="assemblyName"/> built from <c>src/<paramref name="projectFolder"/></c> (or another top folder).</summary>
    public static string Executable(string projectFolder, string assemblyName, string topFolder = "src")
    {
        var path = Path.Combine(OutputFolder(projectFolder, topFolder), assemblyName);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{assemblyName} is not built at {path}");
    }

    /// <summary>
    /// <c>bin/{Configuration}/{TargetFramework}</c> of a project, for the configuration and framework the
    /// running program was built with (its own output folder has the same shape).
    /// </summary>
    public static string OutputFolder(string projectFolder, string topFolder = "src") =>
        Path.Combine(RepositoryRoot, topFolder, projectFolder, "bin", Configuration, Framework);

    /// <summary>The build configuration of the running program (Debug, Release), from its output folder.</summary>
    public static string Configuration => RunningOutput.Parent!.Name;

    /// <summary>The target framework folder of the running program (net10.0).</summary>
    public static string Framework => RunningOutput.Name;

    private static DirectoryInfo RunningOutput => new(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "KvnDb.sln")))
                return folder.FullName;
        }
        throw new InvalidOperationException($"KvnDb.sln not found above {AppContext.BaseDirectory}: run from a build output inside the repository");
    }
}

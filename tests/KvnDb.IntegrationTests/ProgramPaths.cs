namespace KvnDb.IntegrationTests;

/// <summary>
/// Finds a KvnDb program in its own project's build output. Programs run from there, not from the
/// test folder: the test folder resolves shared-framework assemblies (ASP.NET Core) that a
/// program's own runtime configuration does not include.
/// </summary>
internal static class ProgramPaths
{
    /// <summary>Path of the apphost for <paramref name="assemblyName"/> built from <c>src/<paramref name="projectFolder"/></c> (or another top folder).</summary>
    public static string Executable(string projectFolder, string assemblyName, string topFolder = "src")
    {
        // AppContext.BaseDirectory is tests/KvnDb.IntegrationTests/bin/{Configuration}/{TargetFramework}/
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        var repository = testOutput.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(repository, topFolder, projectFolder, "bin", configuration, framework, assemblyName);
        return File.Exists(path) ? path : throw new FileNotFoundException($"{assemblyName} is not built at {path}");
    }
}

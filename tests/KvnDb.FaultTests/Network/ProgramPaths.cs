namespace KvnDb.FaultTests.Network;

/// <summary>
/// Finds a KvnDb program's assembly in its own project's build output (same configuration and
/// framework as the tests). Programs run from there with <c>dotnet</c>: their runtime configuration
/// names the shared frameworks they need, which the test folder's does not.
/// </summary>
public static class ProgramPaths
{
    /// <summary>Path of <c><paramref name="assemblyName"/>.dll</c> built from <c>src/<paramref name="projectFolder"/></c>.</summary>
    public static string Assembly(string projectFolder, string assemblyName)
    {
        // AppContext.BaseDirectory is tests/<project>/bin/{Configuration}/{TargetFramework}/
        var testOutput = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        var framework = testOutput.Name;
        var configuration = testOutput.Parent!.Name;
        var repository = testOutput.Parent.Parent!.Parent!.Parent!.Parent!.FullName;
        var path = Path.Combine(repository, "src", projectFolder, "bin", configuration, framework, assemblyName + ".dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"{assemblyName} is not built at {path}");
    }
}

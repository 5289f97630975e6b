namespace KvnDb.FaultTests.Scenarios;

/// <summary>
/// Appends each scenario's row to a results file: <c>KVNDB_FAULT_RESULTS</c>, or
/// <c>artifacts/fault-results.md</c> in the repository (not committed; RESULTS.md holds the curated tables).
/// </summary>
internal static class ResultsFile
{
    private static readonly Lock Gate = new();

    private static readonly string Header =
        ScenarioReport.TableHeader.Replace(" notes |\n", " notes | run |\n", StringComparison.Ordinal) + " --- |\n";

    public static string Path => Environment.GetEnvironmentVariable("KVNDB_FAULT_RESULTS") is { Length: > 0 } path
        ? path
        : System.IO.Path.Combine(RepositoryRoot(), "artifacts", "fault-results.md");

    public static void Append(ScenarioReport report)
    {
        lock (Gate)
        {
            var path = Path;
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            if (!File.Exists(path))
                File.WriteAllText(path, Header);
            File.AppendAllText(path, $"{report.TableRow} {FaultSettings.Label}, {DateTime.UtcNow:yyyy-MM-dd HH:mm}Z |\n");
        }
    }

    private static string RepositoryRoot()
    {
        // AppContext.BaseDirectory is tests/<project>/bin/{Configuration}/{TargetFramework}/
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(System.IO.Path.Combine(directory.FullName, "KvnDb.sln")))
            directory = directory.Parent;
        return directory?.FullName ?? System.IO.Path.GetTempPath();
    }
}

namespace KvnDb.IntegrationTests.Fuzz;

/// <summary>
/// The router fuzz tests run alone: they measure process-wide allocation and working set, and their
/// flood of traffic would show in other tests' process-wide metrics.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FuzzCollection
{
    public const string Name = "Router fuzzing";
}

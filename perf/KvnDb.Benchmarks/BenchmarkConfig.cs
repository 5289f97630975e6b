using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Exporters.Csv;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Loggers;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace KvnDb.Benchmarks;

/// <summary>
/// One configuration for every suite: MemoryDiagnoser (bytes allocated per operation), GitHub
/// markdown and CSV exporters, results under perf/results. The in-process toolchain keeps the
/// run free of generated projects (the repo's strict build settings would apply to them), and lets a
/// global setup start a real router and real nodes on loopback beside the measured code.
/// </summary>
internal static class BenchmarkConfig
{
    public static IConfig Create(bool ci, string artifacts)
    {
        var job = ci
            // A few minutes for the whole set: fewer, shorter iterations; numbers are indicative, allocations exact.
            ? Job.Default.WithLaunchCount(1).WithWarmupCount(2).WithIterationCount(5).WithIterationTime(TimeInterval.FromMilliseconds(150)).WithId("ci")
            : Job.Default.WithLaunchCount(1).WithWarmupCount(4).WithIterationCount(15).WithId("full");
        return ManualConfig.CreateEmpty()
            .AddJob(job.WithToolchain(InProcessEmitToolchain.Instance))
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddColumn(StatisticColumn.Median, StatisticColumn.P95)
            .AddLogger(ConsoleLogger.Default)
            .AddExporter(MarkdownExporter.GitHub, CsvExporter.Default)
            .WithArtifactsPath(artifacts)
            .WithOptions(ConfigOptions.DisableLogFile);
    }
}

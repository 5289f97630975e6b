using System.Globalization;

namespace KvnDb.Bench;

/// <summary>Prints results the way redis-benchmark does: a summary block, one line with <c>-q</c>, or CSV rows.</summary>
internal static class ResultPrinter
{
    public const string CsvHeader =
        "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"";

    public static void Print(TextWriter output, TestResult result, BenchOptions options)
    {
        if (options.Csv)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"\"{result.Test}\",\"{result.RequestsPerSecond:F2}\",\"{result.AverageMs:F3}\",\"{result.MinMs:F3}\",\"{result.P50Ms:F3}\",\"{result.P95Ms:F3}\",\"{result.P99Ms:F3}\",\"{result.MaxMs:F3}\""));
        }
        else if (options.Quiet)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{result.Test}: {result.RequestsPerSecond:F2} requests per second, p50={result.P50Ms:F3} msec"));
        }
        else
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"""
                ====== {result.Test} ======
                  {result.Requests} requests completed in {result.Elapsed.TotalSeconds:F2} seconds
                  {options.Clients} parallel clients
                  {options.DataSize} bytes payload
                  pipeline {options.Pipeline}, protocol {options.Protocol.ToString().ToLowerInvariant()}, {(options.Keyspace > 0 ? $"random keys over {options.Keyspace}" : "one fixed key")}

                Summary:
                  throughput summary: {result.RequestsPerSecond:F2} requests per second
                  latency summary (msec):
                          avg       min       p50       p95       p99       max
                    {result.AverageMs,9:F3} {result.MinMs,9:F3} {result.P50Ms,9:F3} {result.P95Ms,9:F3} {result.P99Ms,9:F3} {result.MaxMs,9:F3}

                """));
        }
        if (result.Errors > 0)
            Console.Error.WriteLine($"{result.Test}: {result.Errors} of {result.Requests} replies were errors");
    }
}

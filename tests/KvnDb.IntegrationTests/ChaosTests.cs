using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace KvnDb.IntegrationTests;

public sealed partial class ChaosTests(ITestOutputHelper output)
{
    private static readonly string[] Kinds = ["freeze", "router-freeze", "cut", "cut-all", "router-kill", "late", "reset"];

    /// <summary>
    /// One round of the chaos tool's disturbances, each once in a random order (freezes, relay cuts, a late
    /// return, router and node restarts) under writes; the tool checks the ledger after each router restart and
    /// freeze and at the end, and the digests.
    /// </summary>
    [Fact]
    public async Task A_short_chaos_round_loses_no_acknowledged_write_and_ends_with_agreeing_replicas()
    {
        using var process = ChildProcess.StartProgram("KvnDb.Chaos", "kvndb-chaos",
            ["--seconds", "0", "--min-rounds", "1", "--faults", string.Join(',', Kinds), "--interval", "0.3", "--max-fault", "3", "--late-writes", "200"],
            topFolder: "tests");
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromMinutes(3));
        var report = process.Stdout + process.Stderr;
        output.WriteLine(report); // the run's disturbance lines and summary, kept with the test result
        Assert.True(exitCode == 0, report);
        Assert.Contains("chaos: PASS", report);
        Assert.Contains(", lost 0,", report);
        var counts = DisturbanceCount().Matches(DisturbanceList().Match(report).Groups["list"].Value)
            .ToDictionary(m => m.Groups["kind"].Value, m => int.Parse(m.Groups["count"].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.All(Kinds, kind => Assert.True(counts.GetValueOrDefault(kind) >= 1, $"no {kind} in the run:\n{report}"));
    }

    [GeneratedRegex(@"disturbances \((?<list>[^)]*)\)")]
    private static partial Regex DisturbanceList();

    [GeneratedRegex(@"(?<kind>[a-z-]+) (?<count>\d+)")]
    private static partial Regex DisturbanceCount();
}

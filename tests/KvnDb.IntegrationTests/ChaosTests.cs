namespace KvnDb.IntegrationTests;

public sealed class ChaosTests
{
    /// <summary>A short chaos run: nodes and router SIGKILLed under writes; the tool checks every acknowledged write and the digests.</summary>
    [Fact]
    public async Task A_short_chaos_run_loses_no_acknowledged_write_and_ends_with_agreeing_replicas()
    {
        using var process = ChildProcess.StartProgram("KvnDb.Chaos", "kvndb-chaos", ["--seconds", "25", "--interval", "1.5"], topFolder: "tests");
        var exitCode = await process.WaitForExitAsync(TimeSpan.FromMinutes(3));
        var report = process.Stdout + process.Stderr;
        Assert.True(exitCode == 0, report);
        Assert.Contains("chaos: PASS", report);
        Assert.Contains("divergent keys 0", report);
    }
}

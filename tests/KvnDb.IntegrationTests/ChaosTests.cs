using System.Diagnostics;

namespace KvnDb.IntegrationTests;

public sealed class ChaosTests
{
    /// <summary>A short chaos run: nodes and router SIGKILLed under writes; the tool checks every acknowledged write and the digests.</summary>
    [Fact]
    public async Task A_short_chaos_run_loses_no_acknowledged_write_and_ends_with_agreeing_replicas()
    {
        var start = new ProcessStartInfo(ProgramPaths.Executable("KvnDb.Chaos", "kvndb-chaos", "tests"), ["--seconds", "25", "--interval", "1.5"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(3));
        var report = await output + await error;
        Assert.True(process.ExitCode == 0, report);
        Assert.Contains("chaos: PASS", report);
        Assert.Contains("divergent keys 0", report);
    }
}

namespace KvnDb.Scripts.Tests;

/// <summary>kvndb-script running .fsx files through FSharp.Compiler.Service, as a child process.</summary>
public sealed class FSharpHostTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan Timeout = ClusterFixture.Timeout;

    [Fact]
    public async Task Fsx_sees_Kv_Args_Log_and_Cancellation()
    {
        using var temp = new TempDirectory();
        var script = temp.Write("globals.fsx", """
            let key = "fsx-globals/" + Args.[0]
            Kv.SetAsync(key, String.Join("|", Args), cancellationToken = Cancellation).AsTask().Wait()
            printfn "args=%d:%s" Args.Count (String.Join(",", Args))
            printfn "value=%s" (Kv.GetStringAsync(key).AsTask().Result)
            printfn "cancelled=%b" Cancellation.IsCancellationRequested
            Log.LogInformation("hello from F#")
            """);

        var result = await ScriptProcess.RunHostAsync([script, .. cluster.HostArgs(temp.Cache), "--", "one", "two words"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("args=2:one,two words", result.Stdout);
        Assert.Contains("value=one|two words", result.Stdout);
        Assert.Contains("cancelled=false", result.Stdout);
        Assert.Contains("hello from F#", result.Stderr);
        Assert.Equal("one|two words", await cluster.Client.GetStringAsync("fsx-globals/one").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Fsx_compile_error_prints_fs_code_and_runs_nothing()
    {
        using var temp = new TempDirectory();
        var script = temp.Write("broken.fsx", """
            Kv.SetAsync("fsx-compile-error/ran", "yes").AsTask().Wait()
            printfn "ran"
            let total = undefinedThing + 1
            """);

        var result = await ScriptProcess.RunHostAsync([script, .. cluster.HostArgs(temp.Cache)]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"{script}(3,13): error FS0039: The value or constructor 'undefinedThing' is not defined.", result.Stderr);
        Assert.DoesNotContain("ran", result.Stdout);
        Assert.False(await cluster.Client.ExistsAsync("fsx-compile-error/ran").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Fsx_exception_prints_message_and_line_and_load_works()
    {
        using var temp = new TempDirectory();
        temp.Write("lib/checks.fsx", """
            module Checks
            let require ok message = if not ok then failwith message
            """);
        var script = temp.Write("main.fsx", """
            #load "lib/checks.fsx"
            printfn "before"
            Checks.require (Args.Count > 5) "need more arguments"
            printfn "after"
            """);

        var result = await ScriptProcess.RunHostAsync([script, .. cluster.HostArgs(temp.Cache), "--", "a"]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("before", result.Stdout);
        Assert.DoesNotContain("after", result.Stdout);
        Assert.Matches(@"checks\.fsx\(2,\d+\): error: Exception: need more arguments", result.Stderr);
    }

    [Fact]
    public async Task Fsx_sets_its_exit_code()
    {
        using var temp = new TempDirectory();
        var script = temp.Write("code.fsx", """
            printfn "exiting with 3"
            Environment.ExitCode <- 3
            """);

        var result = await ScriptProcess.RunHostAsync([script, "--cache-dir", temp.Cache]);

        Assert.True(result.ExitCode == 3, result.ToString());
        Assert.Contains("exiting with 3", result.Stdout);
    }

    [Fact]
    public async Task Ctrl_C_cancels_a_long_running_fsx()
    {
        using var temp = new TempDirectory();
        var script = temp.Write("loop.fsx", """
            let mutable written = 0
            while not Cancellation.IsCancellationRequested do
                Kv.SetAsync("fsx-cancel/last", string written).AsTask().Wait()
                written <- written + 1
                if written = 10 then printfn "started"
                Cancellation.WaitHandle.WaitOne(10) |> ignore // paced by the token: wakes at once on Ctrl+C
            Cancellation.ThrowIfCancellationRequested()
            """);
        using var process = ScriptProcess.StartHost([script, .. cluster.HostArgs(temp.Cache)]);

        await process.WaitForOutputAsync("started", ScriptProcess.Timeout);
        await process.SignalAsync("INT");
        var result = await process.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == 130, result.ToString());
        Assert.Contains($"{script}: cancelled", result.Stderr);
        Assert.NotNull(await cluster.Client.GetStringAsync("fsx-cancel/last").AsTask().WaitAsync(Timeout));
    }
}

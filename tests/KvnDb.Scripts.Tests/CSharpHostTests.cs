using KvnDb.Router;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace KvnDb.Scripts.Tests;

/// <summary>kvndb-script running .csx files as a child process against a real router with two nodes.</summary>
public sealed class CSharpHostTests(ClusterFixture cluster) : IClassFixture<ClusterFixture>
{
    private static readonly TimeSpan Timeout = ClusterFixture.Timeout;

    [Fact]
    public async Task Script_sees_Kv_Args_Log_and_its_return_value_is_the_exit_code()
    {
        using var temp = new TempDirectory();
        var script = temp.Write("globals.csx", """
            await Kv.SetAsync("csx-globals/" + Args[0], string.Join("|", Args), cancellationToken: Cancellation);
            Console.WriteLine($"args={Args.Count}:{string.Join(",", Args)}");
            Log.LogInformation("hello from the script's logger");
            Console.WriteLine("value=" + await Kv.GetStringAsync("csx-globals/" + Args[0]));
            return 7;
            """);

        var result = await ScriptProcess.RunHostAsync([script, .. cluster.HostArgs(temp.Cache), "--", "one", "two words", "--three"]);

        Assert.True(result.ExitCode == 7, result.ToString());
        Assert.Contains("args=3:one,two words,--three", result.Stdout);
        Assert.Contains("value=one|two words|--three", result.Stdout);
        Assert.Contains("hello from the script's logger", result.Stderr);
        Assert.Equal("one|two words|--three", await cluster.Client.GetStringAsync("csx-globals/one").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Compile_error_prints_file_line_column_and_code_and_runs_nothing()
    {
        using var temp = new TempDirectory();
        var script = temp.Write("broken.csx", """
            await Kv.SetAsync("csx-compile-error/ran", "yes");
            Console.WriteLine("ran");
            var total = undefinedThing + 1;
            """);

        var result = await ScriptProcess.RunHostAsync([script, .. cluster.HostArgs(temp.Cache)]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"{script}(3,13): error CS0103: The name 'undefinedThing' does not exist in the current context", result.Stderr);
        Assert.DoesNotContain("ran", result.Stdout);
        Assert.False(await cluster.Client.ExistsAsync("csx-compile-error/ran").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Exception_prints_its_message_and_the_script_line_that_threw()
    {
        using var temp = new TempDirectory();
        var script = temp.Write("throws.csx", """
            Console.WriteLine("before");
            await Task.Yield();
            if (Args.Count == 0)
                throw new InvalidOperationException("the script gave up");
            Console.WriteLine("after");
            """);

        var result = await ScriptProcess.RunHostAsync([script, .. cluster.HostArgs(temp.Cache)]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("before", result.Stdout);
        Assert.DoesNotContain("after", result.Stdout);
        Assert.Contains($"{script}(4,5): error: InvalidOperationException: the script gave up", result.Stderr);
    }

    [Fact]
    public async Task Exception_in_a_loaded_file_names_that_file()
    {
        using var temp = new TempDirectory();
        temp.Write("lib/fail.csx", """
            static int Divide(int a, int b)
            {
                return a / b;
            }
            """);
        var script = temp.Write("main.csx", """
            #load "lib/fail.csx"
            Console.WriteLine(Divide(1, 0));
            """);

        var result = await ScriptProcess.RunHostAsync([script, .. cluster.HostArgs(temp.Cache)]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains($"{Path.Combine(temp.Path, "lib", "fail.csx")}(3,5): error: DivideByZeroException:", result.Stderr);
    }

    [Fact]
    public async Task Load_and_r_resolve_relative_to_the_script_folder_and_survive_the_cache()
    {
        using var temp = new TempDirectory();
        EmitLibrary(Path.Combine(temp.Path, "scripts", "lib", "Greeter.dll"), """
            namespace Greetings;
            public static class Greeter
            {
                public static string Greet(string name) => "hello, " + name;
            }
            """);
        temp.Write("scripts/include/keys.csx", """
            static string KeyFor(string name) => "csx-load/" + name;
            """);
        var script = temp.Write("scripts/main.csx", """
            #r "lib/Greeter.dll"
            #load "include/keys.csx"
            using Greetings;
            await Kv.SetAsync(KeyFor(Args[0]), Greeter.Greet(Args[0]));
            Console.WriteLine(await Kv.GetStringAsync(KeyFor(Args[0])));
            """);

        // Run from another working directory: relative paths must follow the script, not the shell.
        var first = await ScriptProcess.RunHostAsync([script, .. cluster.HostArgs(temp.Cache), "-v", "--", "ada"]);
        var compiled = CachedAssembly(temp.Cache);
        var second = await ScriptProcess.RunHostAsync([script, .. cluster.HostArgs(temp.Cache), "-v", "--", "grace"]);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("hello, ada", first.Stdout);
        Assert.NotNull(compiled); // compiled and stored
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Contains("hello, grace", second.Stdout);
        Assert.Equal(compiled, CachedAssembly(temp.Cache)); // loaded from the cache: the stored assembly is untouched
        Assert.Equal("hello, grace", await cluster.Client.GetStringAsync("csx-load/grace").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Cache_is_used_on_the_second_run_and_dropped_when_a_loaded_file_changes()
    {
        using var temp = new TempDirectory();
        var included = temp.Write("include/word.csx", "static string Word() => \"first\";\n");
        var script = temp.Write("cached.csx", """
            #load "include/word.csx"
            Console.WriteLine("word=" + Word());
            """);
        string[] args = [script, .. cluster.HostArgs(temp.Cache), "-v"];

        var cold = await ScriptProcess.RunHostAsync(args);
        var afterCold = CachedAssembly(temp.Cache);
        var warm = await ScriptProcess.RunHostAsync(args);
        var afterWarm = CachedAssembly(temp.Cache);
        await File.WriteAllTextAsync(included, "static string Word() => \"second\";\n");
        var changed = await ScriptProcess.RunHostAsync(args);

        Assert.True(cold.ExitCode == 0, cold.ToString());
        Assert.NotNull(afterCold); // compiled and stored
        Assert.Contains("word=first", cold.Stdout);
        Assert.True(warm.ExitCode == 0, warm.ToString());
        Assert.Equal(afterCold, afterWarm); // loaded from the cache: the stored assembly is untouched
        Assert.Contains("word=first", warm.Stdout);
        Assert.True(changed.ExitCode == 0, changed.ToString());
        Assert.NotEqual(afterWarm, CachedAssembly(temp.Cache)); // compiled again and stored anew
        Assert.Contains("word=second", changed.Stdout);
        Assert.Single(Directory.GetDirectories(temp.Cache));
    }

    [Fact]
    public async Task No_cache_compiles_every_time_and_stores_nothing()
    {
        using var temp = new TempDirectory();
        var script = temp.Write("nocache.csx", "Console.WriteLine(\"fresh\");\n");
        string[] args = [script, "--no-cache", "-v"];
        // The default cache points into the test's folder: with --no-cache nothing may be stored or read there.
        var environment = new Dictionary<string, string> { ["KVNDB_SCRIPT_CACHE"] = temp.Cache };

        var first = await ScriptProcess.RunHostAsync(args, environment);
        var second = await ScriptProcess.RunHostAsync(args, environment);

        Assert.True(first.ExitCode == 0 && second.ExitCode == 0, first + "\n" + second);
        Assert.Contains("fresh", first.Stdout);
        Assert.Contains("fresh", second.Stdout);
        Assert.False(Directory.Exists(temp.Cache));
    }

    [Fact]
    public async Task Password_comes_from_the_option_or_the_environment_and_a_wrong_one_fails_at_the_script_line()
    {
        using var temp = new TempDirectory();
        await using var router = await RouterHost.StartAsync(new RouterOptions
        {
            Port = 0, Password = "s3cret", EmbeddedNodes = 1, AuthFailureDelay = TimeSpan.FromMilliseconds(50),
        }).WaitAsync(Timeout);
        await router.WaitForServingNodesAsync(1, Timeout);
        var script = temp.Write("auth.csx", """
            Console.WriteLine("starting");
            await Kv.SetAsync("auth/ok", "yes");
            Console.WriteLine("stored");
            """);
        var port = router.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var withOption = await ScriptProcess.RunHostAsync([script, "--port", port, "-p", "s3cret", "--cache-dir", temp.Cache]);
        var fromEnvironment = await ScriptProcess.RunHostAsync([script, "--port", port, "--cache-dir", temp.Cache], new Dictionary<string, string> { ["KVNDB_PASSWORD"] = "s3cret" });
        var wrong = await ScriptProcess.RunHostAsync([script, "--port", port, "-p", "guess", "--cache-dir", temp.Cache]);

        Assert.True(withOption.ExitCode == 0, withOption.ToString());
        Assert.Contains("stored", withOption.Stdout);
        Assert.True(fromEnvironment.ExitCode == 0, fromEnvironment.ToString());
        Assert.True(wrong.ExitCode == 1, wrong.ToString());
        Assert.DoesNotContain("stored", wrong.Stdout);
        Assert.Contains($"{script}(2,1): error: KvnDbAuthenticationException:", wrong.Stderr);
    }

    [Fact]
    public async Task Ctrl_C_cancels_a_long_running_script_through_its_token()
    {
        using var temp = new TempDirectory();
        var script = temp.Write("forever.csx", """
            var written = 0;
            while (true)
            {
                await Kv.SetAsync($"csx-cancel/{written % 100}", written.ToString(), cancellationToken: Cancellation);
                if (++written == 10)
                    Console.WriteLine("started");
                Cancellation.WaitHandle.WaitOne(10); // paced by the token: wakes at once on Ctrl+C
            }
            """);
        using var process = ScriptProcess.StartHost([script, .. cluster.HostArgs(temp.Cache)]);

        await process.WaitForOutputAsync("started", ScriptProcess.Timeout);
        await process.SignalAsync("INT");
        var result = await process.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == 130, result.ToString());
        Assert.Contains($"{script}: cancelled", result.Stderr);
        Assert.NotNull(await cluster.Client.GetStringAsync("csx-cancel/9").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Second_Ctrl_C_ends_a_script_that_ignores_its_token()
    {
        using var temp = new TempDirectory();
        var script = temp.Write("stubborn.csx", """
            Console.WriteLine("started");
            await new TaskCompletionSource().Task; // never completes, and ignores the token
            """);
        using var process = ScriptProcess.StartHost([script, "--cache-dir", temp.Cache]);

        await process.WaitForOutputAsync("started", ScriptProcess.Timeout);
        await process.SignalAsync("INT");
        await process.WaitForErrorAsync("cancelling (Ctrl+C again to abort)", TimeSpan.FromSeconds(30));
        await process.SignalAsync("INT");
        var result = await process.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.True(result.ExitCode == 130, result.ToString());
    }

    [Fact]
    public async Task Missing_file_and_unknown_extension_fail_with_a_message()
    {
        using var temp = new TempDirectory();
        var text = temp.Write("notes.txt", "hello");

        var missing = await ScriptProcess.RunHostAsync([Path.Combine(temp.Path, "nope.csx"), "--cache-dir", temp.Cache]);
        var wrongKind = await ScriptProcess.RunHostAsync([text, "--cache-dir", temp.Cache]);

        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains("nope.csx: no such file", missing.Stderr);
        Assert.True(wrongKind.ExitCode == 1, wrongKind.ToString());
        Assert.Contains("expected a .csx (C#) or .fsx (F#) script", wrongKind.Stderr);
    }

    [Fact]
    public async Task Sixteen_workers_touching_Kv_at_once_never_starve_the_thread_pool()
    {
        using var temp = new TempDirectory();
        // The pool capped at the core count: a Kv that blocked a thread while connecting would hang here for good.
        var script = temp.Write("workers.csx", """
            ThreadPool.SetMaxThreads(Environment.ProcessorCount, 1000);
            var written = 0;
            var workers = Enumerable.Range(0, 16).Select(w => Task.Run(async () =>
            {
                for (var i = 0; i < 200; i++)
                {
                    await Kv.SetAsync($"csx-workers/{w}/{i}", "x", cancellationToken: Cancellation);
                    Interlocked.Increment(ref written);
                }
            })).ToArray();
            await Task.WhenAll(workers);
            Console.WriteLine($"writes={written}");
            """);

        var result = await ScriptProcess.RunHostAsync([script, .. cluster.HostArgs(temp.Cache)]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("writes=3200", result.Stdout);
        Assert.True(await cluster.Client.ExistsAsync("csx-workers/15/199").AsTask().WaitAsync(Timeout));
    }

    [Fact]
    public async Task Unreachable_router_fails_at_the_line_that_first_uses_Kv()
    {
        using var temp = new TempDirectory();
        var script = temp.Write("offline.csx", """
            Console.WriteLine("no router needed yet");
            await Kv.PingAsync();
            """);

        // Port 1 on loopback: nothing listens there.
        var result = await ScriptProcess.RunHostAsync([script, "--port", "1", "--cache-dir", temp.Cache]);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains("no router needed yet", result.Stdout);
        Assert.Contains($"{script}(2,", result.Stderr);
    }

    /// <summary>
    /// The one compiled script stored in <paramref name="cache"/>, identified by its folder, write time and
    /// length (a compile stores a new folder; a cache hit leaves the assembly as it was); null when none is stored.
    /// </summary>
    private static (string Folder, DateTime Written, long Length)? CachedAssembly(string cache)
    {
        if (!Directory.Exists(cache))
            return null;
        var assembly = Directory.GetDirectories(cache).Select(folder => new FileInfo(Path.Combine(folder, "script.dll"))).SingleOrDefault(f => f.Exists);
        return assembly is null ? null : (assembly.DirectoryName!, assembly.LastWriteTimeUtc, assembly.Length);
    }

    /// <summary>Compiles a real assembly for a script to <c>#r</c>.</summary>
    private static void EmitLibrary(string path, string source)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var runtime = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var compilation = CSharpCompilation.Create(Path.GetFileNameWithoutExtension(path),
            [CSharpSyntaxTree.ParseText(source)],
            [MetadataReference.CreateFromFile(typeof(object).Assembly.Location), MetadataReference.CreateFromFile(Path.Combine(runtime, "System.Runtime.dll"))],
            new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary));
        var result = compilation.Emit(path);
        Assert.True(result.Success, string.Join("\n", result.Diagnostics));
    }
}

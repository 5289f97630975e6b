using System.Globalization;
using KvnDb.Client;
using System.Diagnostics;
using KvnDb.Cli;

namespace KvnDb.IntegrationTests;

public sealed class ConsoleTests
{
    private static async Task<(int Code, string Out, string Err)> RunAsync(TestCluster cluster, string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] all = ["--port", cluster.Router.Port.ToString(CultureInfo.InvariantCulture), .. args];
        var code = await ConsoleApp.RunAsync(all, new StringReader(stdin), output, error).WaitAsync(TestCluster.Timeout);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Counters_conditional_sets_compare_and_set_and_expiry_from_the_console()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        Assert.Equal((0, "1\n"), Strip(await RunAsync(cluster, "", "incr", "hits")));
        Assert.Equal((0, "11\n"), Strip(await RunAsync(cluster, "", "incr", "hits", "10")));
        Assert.Equal(0, (await RunAsync(cluster, "", "setnx", "lock", "me")).Code);
        var taken = await RunAsync(cluster, "", "setnx", "lock", "you");
        Assert.Equal(1, taken.Code);
        Assert.Contains("exists", taken.Err);

        var (code, versioned) = Strip(await RunAsync(cluster, "", "getv", "lock"));
        Assert.Equal(0, code);
        var version = versioned.Trim().Split("version ")[1];
        Assert.StartsWith("version ", (await RunAsync(cluster, "", "cas", "lock", version, "mine now")).Out);
        var stale = await RunAsync(cluster, "", "cas", "lock", version, "too late");
        Assert.Equal(1, stale.Code);
        Assert.Contains("not set", stale.Err);
        Assert.Equal((0, "mine now\n"), Strip(await RunAsync(cluster, "", "get", "lock")));

        Assert.Equal((0, "no expiry\n"), Strip(await RunAsync(cluster, "", "ttl", "lock")));
        Assert.Equal(0, (await RunAsync(cluster, "", "expire", "lock", "100")).Code);
        Assert.Contains(" s (at ", (await RunAsync(cluster, "", "ttl", "lock")).Out);
        Assert.Equal(0, (await RunAsync(cluster, "", "persist", "lock")).Code);
        Assert.Equal(1, (await RunAsync(cluster, "", "ttl", "missing")).Code);
        Assert.Equal(1, (await RunAsync(cluster, "", "expire", "missing", "1")).Code);
    }

    [Fact]
    public async Task One_shot_commands_print_values_and_use_exit_codes()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        Assert.Equal(0, (await RunAsync(cluster, "", "set", "greeting", "hello world")).Code);
        Assert.Equal((0, "hello world\n"), Strip(await RunAsync(cluster, "", "get", "greeting")));

        var missing = await RunAsync(cluster, "", "get", "nope");
        Assert.Equal(1, missing.Code);
        Assert.Equal("", missing.Out);
        Assert.Contains("not found", missing.Err);

        await RunAsync(cluster, "", "set", "g2", "x");
        var keys = await RunAsync(cluster, "", "keys", "g");
        Assert.Equal(["g2", "greeting"], keys.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());

        Assert.Equal(0, (await RunAsync(cluster, "", "del", "g2")).Code);
        Assert.Equal(1, (await RunAsync(cluster, "", "del", "g2")).Code);
        Assert.StartsWith("PONG", (await RunAsync(cluster, "", "ping")).Out);
        Assert.Equal(2, RouterInfo.Parse((await RunAsync(cluster, "", "info")).Out).NodesServing);
    }

    [Fact]
    public async Task Wrong_password_and_unreachable_router_are_clear_errors()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new KvnDb.Router.RouterOptions { Password = "pw", AuthFailureDelay = TimeSpan.Zero });
        var refused = await RunAsync(cluster, "", "-p", "bad", "ping");
        Assert.Equal(1, refused.Code);
        Assert.Contains("error: wrong password", refused.Err);

        var output = new StringWriter();
        var error = new StringWriter();
        var code = await ConsoleApp.RunAsync(["--port", "1", "--timeout", "2", "ping"], new StringReader(""), output, error);
        Assert.Equal(1, code);
        Assert.Contains("cannot connect to 127.0.0.1:1", error.ToString());
    }

    [Fact]
    public async Task Interactive_prompt_runs_commands_and_aliases_from_stdin()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        var script = """
            set name 'Ada Lovelace'
            set "quoted \"key\"" value
            show name
            view "quoted \"key\""
            getkeys 2
            bogus
            remove name
            print name
            exit
            get never-run
            """;
        var (code, output, error) = await RunAsync(cluster, script);
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("Ada Lovelace", lines[0]);
        Assert.Equal("value", lines[1]);
        Assert.Equal(["name", "quoted \"key\""], lines[2].Split('\t').Order());
        Assert.Contains("error: unknown command 'bogus'", error);
        Assert.Contains("error: not found", error);
        Assert.DoesNotContain("never-run", output + error);
    }

    [Fact]
    public async Task The_console_program_runs_as_a_real_process_on_piped_stdin()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        var start = new ProcessStartInfo(ProgramPaths.Executable("Cli", "kvndb"), ["--port", cluster.Router.Port.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        await process.StandardInput.WriteLineAsync("set k 'v 1'");
        await process.StandardInput.WriteLineAsync("get k");
        process.StandardInput.Close(); // EOF ends the prompt
        var output = await process.StandardOutput.ReadToEndAsync().WaitAsync(TestCluster.Timeout);
        await process.WaitForExitAsync().WaitAsync(TestCluster.Timeout);
        Assert.Equal(0, process.ExitCode);
        Assert.Equal("v 1", output.Trim());
    }

    private static (int, string) Strip((int Code, string Out, string Err) result) => (result.Code, result.Out);
}

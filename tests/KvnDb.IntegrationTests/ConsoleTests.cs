using System.Globalization;
using System.Text;
using KvnDb.Cli;
using KvnDb.Client;
using KvnDb.Protocol;

namespace KvnDb.IntegrationTests;

public sealed class ConsoleTests
{
    private static async Task<(int Code, string Out, string Err)> RunAsync(TestCluster cluster, string stdin, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        string[] all = ["-p", Port(cluster), .. args];
        var code = await ConsoleApp.RunAsync(all, new StringReader(stdin), output, error).WaitAsync(TestCluster.Timeout);
        return (code, output.ToString(), error.ToString());
    }

    private static string Port(TestCluster cluster) => cluster.Router.Port.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public async Task Replies_print_as_redis_cli_prints_them_and_commands_ignore_case()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        Assert.Equal((0, "OK\n"), Strip(await RunAsync(cluster, "", "SET", "greeting", "hello world")));
        Assert.Equal((0, "\"hello world\"\n"), Strip(await RunAsync(cluster, "", "Get", "greeting")));
        Assert.Equal((1, "(nil)\n"), Strip(await RunAsync(cluster, "", "get", "nope")));
        Assert.Equal((0, "(integer) 1\n"), Strip(await RunAsync(cluster, "", "incr", "hits")));
        Assert.Equal((0, "(integer) 11\n"), Strip(await RunAsync(cluster, "", "INCRBY", "hits", "10")));
        Assert.Equal((0, "(integer) 10\n"), Strip(await RunAsync(cluster, "", "decr", "hits")));
        Assert.Equal((0, "(integer) 1\n"), Strip(await RunAsync(cluster, "", "setnx", "lock", "me")));
        Assert.Equal((0, "(integer) 0\n"), Strip(await RunAsync(cluster, "", "setnx", "lock", "you")));
        Assert.Equal((0, "(integer) 2\n"), Strip(await RunAsync(cluster, "", "exists", "lock", "hits", "nope")));
        Assert.Equal((0, "1) \"me\"\n2) (nil)\n"), Strip(await RunAsync(cluster, "", "mget", "lock", "nope")));
        Assert.Equal((0, "PONG\n"), Strip(await RunAsync(cluster, "", "ping")));
        Assert.Equal(2, RouterInfo.Parse((await RunAsync(cluster, "", "info")).Out).NodesServing);

        var unknown = await RunAsync(cluster, "", "bogus");
        Assert.Equal(1, unknown.Code);
        Assert.Contains("(error) unknown command 'bogus'", unknown.Err);
        var arity = await RunAsync(cluster, "", "get");
        Assert.Equal(1, arity.Code);
        Assert.Contains("wrong number of arguments for 'get'", arity.Err);
    }

    [Fact]
    public async Task Counters_conditional_sets_compare_and_set_and_expiry_from_the_console()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        Assert.Equal(0, (await RunAsync(cluster, "", "set", "lock", "me")).Code);
        var (code, versioned) = Strip(await RunAsync(cluster, "", "getv", "lock"));
        Assert.Equal(0, code);
        Assert.StartsWith("1) \"me\"\n2) (integer) ", versioned);
        var version = versioned.Split("(integer) ")[1].Trim();
        Assert.StartsWith("(integer) ", (await RunAsync(cluster, "", "cas", "lock", version, "mine now")).Out);
        var stale = await RunAsync(cluster, "", "cas", "lock", version, "too late");
        Assert.Equal(1, stale.Code);
        Assert.Contains("CONFLICT", stale.Err);
        Assert.Equal((0, "\"mine now\"\n"), Strip(await RunAsync(cluster, "", "get", "lock")));

        Assert.Equal((0, "(integer) -1\n"), Strip(await RunAsync(cluster, "", "ttl", "lock")));
        Assert.Equal((0, "(integer) 1\n"), Strip(await RunAsync(cluster, "", "expire", "lock", "100")));
        var ttl = long.Parse((await RunAsync(cluster, "", "--raw", "ttl", "lock")).Out, CultureInfo.InvariantCulture);
        Assert.InRange(ttl, 1, 100);
        Assert.Equal((0, "(integer) 1\n"), Strip(await RunAsync(cluster, "", "persist", "lock")));
        Assert.Equal((0, "(integer) -2\n"), Strip(await RunAsync(cluster, "", "ttl", "missing")));
        Assert.Equal((0, "(integer) 0\n"), Strip(await RunAsync(cluster, "", "expire", "missing", "1")));
        Assert.Equal((0, "OK\n"), Strip(await RunAsync(cluster, "", "set", "session", "x", "EX", "50", "NX")));
        Assert.Equal((1, "(nil)\n"), Strip(await RunAsync(cluster, "", "set", "session", "y", "NX")));
        Assert.Equal((0, "(integer) 3\n"), Strip(await RunAsync(cluster, "", "append", "tail", "abc")));
        Assert.Equal((0, "\"abc\"\n"), Strip(await RunAsync(cluster, "", "getdel", "tail")));
    }

    [Fact]
    public async Task Keys_takes_a_prefix_even_a_number_and_ends_with_the_count()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var client = await cluster.ConnectAsync();
        foreach (var key in new[] { "2a", "2b", "20", "3", "user:1" })
            await client.SetAsync(key, "v");
        var (code, output) = Strip(await RunAsync(cluster, "", "keys", "2"));
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("(3 keys)", lines[^1]);
        Assert.Equal(["\"20\"", "\"2a\"", "\"2b\""], lines[..^1].Select(l => l[(l.IndexOf(") ", StringComparison.Ordinal) + 2)..]).Order());
        Assert.Equal(["20", "2a", "2b"], (await RunAsync(cluster, "", "--raw", "keys", "2")).Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());
        Assert.Equal((0, "(empty array)\n"), Strip(await RunAsync(cluster, "", "keys", "nothing:")));
        Assert.Equal((0, "(integer) 5\n"), Strip(await RunAsync(cluster, "", "dbsize")));
    }

    [Fact]
    public async Task Wrong_password_and_unreachable_router_are_clear_errors()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new KvnDb.Router.RouterOptions { Password = "pw", AuthFailureDelay = TimeSpan.Zero });
        var refused = await RunAsync(cluster, "", "-a", "bad", "ping");
        Assert.Equal(1, refused.Code);
        Assert.Contains("error: wrong password", refused.Err);
        Assert.Contains("Warning: a password given with -a", refused.Err);
        Assert.Equal((0, "PONG\n"), Strip(await RunAsync(cluster, "", "-a", "pw", "--no-auth-warning", "ping")));

        var output = new StringWriter();
        var error = new StringWriter();
        var code = await ConsoleApp.RunAsync(["-p", "1", "--timeout", "2", "ping"], new StringReader(""), output, error);
        Assert.Equal(1, code);
        Assert.Contains("cannot connect to 127.0.0.1:1", error.ToString());

        var bad = await RunAsync(cluster, "", "--bogus");
        Assert.Equal(1, bad.Code);
        Assert.Contains("unknown option '--bogus'", bad.Err);
    }

    [Fact]
    public async Task Interactive_prompt_runs_commands_aliases_and_transactions_from_stdin()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        var script = """
            set name 'Ada Lovelace'
            set "quoted \"key\"" value
            show name
            VIEW "quoted \"key\""
            set bin "a\x00\xff\n"
            get bin
            getkeys 2
            bogus
            multi
            set t1 one
            incr t2
            exec
            remove name
            print name
            exit
            get never-run
            """;
        var (code, output, error) = await RunAsync(cluster, script);
        Assert.Equal(0, code);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
            ["OK", "OK", "\"Ada Lovelace\"", "\"value\"", "OK", "\"a\\x00\\xff\\n\"", "(empty array)", "OK", "QUEUED", "QUEUED", "1) OK", "2) (integer) 1", "(integer) 1", "(nil)"],
            lines);
        Assert.Contains("(error) unknown command 'bogus'", error);
        Assert.DoesNotContain("never-run", output + error);
    }

    [Fact]
    public async Task One_shot_commands_run_as_a_real_process_with_redis_flags_and_exit_codes()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        var ping = await ConsoleProcess.RunAsync(["-h", "127.0.0.1", "-p", Port(cluster), "ping"]);
        Assert.Equal((0, "PONG\n"), (ping.Code, ping.Text));
        var error = await ConsoleProcess.RunAsync(["-p", Port(cluster), "incr", "not-a-count", "x"]);
        Assert.Equal(1, error.Code);
        var missing = await ConsoleProcess.RunAsync(["-p", Port(cluster), "GET", "missing"]);
        Assert.Equal((1, "(nil)\n"), (missing.Code, missing.Text));
        var repeated = await ConsoleProcess.RunAsync(["-p", Port(cluster), "-r", "3", "-i", "0", "incr", "hits"]);
        Assert.Equal((0, "(integer) 1\n(integer) 2\n(integer) 3\n"), (repeated.Code, repeated.Text));
        var csv = await ConsoleProcess.RunAsync(["-p", Port(cluster), "--csv", "mget", "hits", "nope"]);
        Assert.Equal("\"3\",NULL\n", csv.Text);
    }

    [Fact]
    public async Task The_prompt_runs_as_a_real_process_on_piped_stdin()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        var result = await ConsoleProcess.RunAsync(["-p", Port(cluster)], "set k 'v 1'\nGET k\nquit\nget k\n"u8.ToArray());
        Assert.Equal((0, "OK\n\"v 1\"\n"), (result.Code, result.Text));
    }

    [Fact]
    public async Task A_200_KB_binary_value_goes_in_with_x_and_comes_back_byte_for_byte_with_raw()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        var value = new byte[200 * 1024];
        new Random(7).NextBytes(value);
        value[0] = 0x1b; // an escape sequence must never reach a terminal raw by default
        var set = await ConsoleProcess.RunAsync(["-p", Port(cluster), "-x", "set", "blob"], value);
        Assert.Equal((0, "OK\n"), (set.Code, set.Text));

        await using var client = await cluster.ConnectAsync();
        Assert.Equal(value, await client.GetAsync("blob"));

        var raw = await ConsoleProcess.RunAsync(["-p", Port(cluster), "--raw", "get", "blob"]);
        Assert.Equal(0, raw.Code);
        Assert.Equal([.. value, (byte)'\n'], raw.Stdout);

        var formatted = await ConsoleProcess.RunAsync(["-p", Port(cluster), "get", "blob"]);
        Assert.StartsWith("\"\\x1b", formatted.Text);
        Assert.DoesNotContain(formatted.Stdout, b => b is < 0x20 and not (byte)'\n' or >= 0x7f);
    }

    [Fact]
    public async Task The_password_comes_from_the_environment_or_a_file_never_only_the_command_line()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1, new KvnDb.Router.RouterOptions { Password = "s3cret", AuthFailureDelay = TimeSpan.Zero });
        var fromEnvironment = await ConsoleProcess.RunAsync(["-p", Port(cluster), "ping"], environment: new Dictionary<string, string?> { ["KVNDB_PASSWORD"] = "s3cret" });
        Assert.Equal((0, "PONG\n", ""), (fromEnvironment.Code, fromEnvironment.Text, fromEnvironment.Stderr));
        using var folder = new TempDirectory();
        var file = folder.Write("password", "s3cret\n");
        var fromFile = await ConsoleProcess.RunAsync(["-p", Port(cluster), "--password-file", file, "ping"]);
        Assert.Equal((0, "PONG\n"), (fromFile.Code, fromFile.Text));
        var without = await ConsoleProcess.RunAsync(["-p", Port(cluster), "ping"]);
        Assert.Equal(1, without.Code);
    }

    [Fact]
    public async Task Monitor_streams_the_commands_the_router_sees()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        await using var watcher = await cluster.ConnectAsync();
        await using var client = await cluster.ConnectAsync();
        using var stop = new CancellationTokenSource(TestCluster.Timeout);
        var seen = new List<MonitorEvent>();
        await using var events = watcher.MonitorAsync(stop.Token).GetAsyncEnumerator(stop.Token);
        Assert.True(await events.MoveNextAsync());
        Assert.Equal(MonitorEventKind.Started, events.Current.Kind);

        await client.SetAsync("user:1", "Ada");
        await client.GetAsync("user:1");
        await client.MultiGetStringsAsync(["a", "b", "c"]);
        while (seen.Count < 3 && await events.MoveNextAsync())
        {
            if (events.Current.Opcode != Opcode.Ping) // the clients' own heartbeats are requests too
                seen.Add(events.Current);
        }
        Assert.Equal([Opcode.Set, Opcode.Get, Opcode.MultiGet], seen.Select(e => e.Opcode));
        Assert.Equal("user:1", Encoding.UTF8.GetString(seen[0].Key));
        Assert.Equal(3u, seen[2].KeyCount);
        Assert.All(seen, e => Assert.Equal(MonitorEventKind.Command, e.Kind));
        Assert.Equal(1, cluster.Router.Cluster.Monitors.Count);

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await events.MoveNextAsync());
        await Eventually.WaitAsync(() => cluster.Router.Cluster.Monitors.Count == 0, what: "the monitor stopped on the router");
        await watcher.PingAsync(); // the connection lives on
    }

    [Fact]
    public async Task The_console_monitor_prints_commands_as_a_real_process()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 1);
        await using var monitor = ChildProcess.StartProgram("Cli", "kvndb", ["-p", Port(cluster), "monitor"]);
        await monitor.WaitForLineAsync("OK", TestCluster.Timeout);
        await using var client = await cluster.ConnectAsync();
        await client.SetAsync("watched", "value");
        await monitor.WaitForLineAsync("\"set\" \"watched\"", TestCluster.Timeout);
    }

    [Fact]
    public async Task Stat_prints_a_line_of_counters_a_second()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 2);
        await using var stat = ChildProcess.StartProgram("Cli", "kvndb", ["-p", Port(cluster), "--stat", "-i", "0.2"]);
        await stat.WaitForLineAsync("ops/s", TestCluster.Timeout);
        await stat.WaitForLineAsync("2/2 serving", TestCluster.Timeout);
        await stat.WaitForLineAsync("w 0", TestCluster.Timeout); // a rate, from the second line on
    }

    private static (int, string) Strip((int Code, string Out, string Err) result) => (result.Code, result.Out);
}

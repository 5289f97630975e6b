using KvnDb.Router;

namespace KvnDb.IntegrationTests.Resp;

/// <summary>
/// redis-cli (Debian package redis-tools) one-shot commands against the RESP port. Skipped, saying
/// so, when redis-cli is not installed.
/// </summary>
public sealed class RedisCliTests
{
    private static readonly string? RedisCli = FindRedisCli();

    private static string? FindRedisCli() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "redis-cli"))
            .FirstOrDefault(File.Exists);

    private static async Task<string> RunAsync(int port, params string[] arguments)
    {
        using var process = ChildProcess.Start(RedisCli!, ["-h", "127.0.0.1", "-p", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. arguments]);
        var exitCode = await process.WaitForExitAsync(TestCluster.Timeout);
        Assert.True(exitCode == 0, $"redis-cli {string.Join(' ', arguments)} exited with {exitCode}: {process.Stderr}");
        return process.Stdout.TrimEnd('\n');
    }

    private static void SkipWithoutRedisCli() =>
        Skip.If(RedisCli is null, "redis-cli is not installed (Debian/Ubuntu: apt-get install -y redis-tools); skipping the redis-cli tests");

    [SkippableFact]
    public async Task One_shot_commands_work()
    {
        SkipWithoutRedisCli();
        await using var cluster = await RespCluster.StartAsync();
        var port = cluster.RespPort();
        Assert.Equal("PONG", await RunAsync(port, "ping"));
        Assert.Equal("OK", await RunAsync(port, "set", "greeting", "hello world"));
        Assert.Equal("hello world", await RunAsync(port, "get", "greeting"));
        Assert.Equal("", await RunAsync(port, "get", "missing"));
        Assert.Equal("", await RunAsync(port, "set", "greeting", "x", "nx"));
        Assert.Equal("hello world", await RunAsync(port, "set", "greeting", "bye", "xx", "get"));
        Assert.Equal("OK", await RunAsync(port, "mset", "a", "1", "b", "2"));
        Assert.Equal("1\n\n2", await RunAsync(port, "mget", "a", "missing", "b"));
        Assert.Equal("2", await RunAsync(port, "exists", "a", "b", "c"));
        Assert.Equal("a\nb", string.Join('\n', (await RunAsync(port, "keys", "[ab]")).Split('\n').Order()));
        Assert.Equal("3", await RunAsync(port, "dbsize"));
        Assert.Equal("a\nb\ngreeting", string.Join('\n', (await RunAsync(port, "--scan", "--pattern", "*")).Split('\n').Order()));
        Assert.Equal("2", await RunAsync(port, "del", "a", "b", "c"));
        Assert.Equal("echoed", await RunAsync(port, "echo", "echoed"));
        Assert.Contains("redis_version:", await RunAsync(port, "info", "server"));
        Assert.Contains("kvndb_nodes_serving:2", await RunAsync(port, "info", "replication"));
        Assert.Equal("save", await RunAsync(port, "config", "get", "save")); // RDB snapshots are off: the value is empty
        Assert.StartsWith("ERR unknown command 'nosuch'", await RunAsync(port, "nosuch"));
        Assert.Equal("bye", await RunAsync(port, "-3", "get", "greeting"));
    }

    [SkippableFact]
    public async Task Password_is_given_with_dash_a()
    {
        SkipWithoutRedisCli();
        await using var cluster = await RespCluster.StartAsync(options: new RouterOptions { Password = "pw" });
        var port = cluster.RespPort();
        Assert.StartsWith("NOAUTH", await RunAsync(port, "get", "k"));
        Assert.Equal("OK", await RunAsync(port, "-a", "pw", "--no-auth-warning", "set", "k", "v"));
        Assert.Equal("v", await RunAsync(port, "-a", "pw", "--no-auth-warning", "get", "k"));
    }
}

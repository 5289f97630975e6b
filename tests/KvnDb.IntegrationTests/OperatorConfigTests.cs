using System.Globalization;
using KvnDb.Client;

namespace KvnDb.IntegrationTests;

/// <summary>Issue 20's names and config: node names in info and digest, config files and secrets from files, clean option errors.</summary>
public sealed class OperatorConfigTests
{
    [Fact]
    public async Task A_node_name_from_the_command_line_or_host_and_folder_shows_in_info_and_digest_with_its_key_count()
    {
        await using var cluster = await TestCluster.StartAsync(nodes: 0);
        using var folder = new TempDirectory();
        var data = folder.PathOf("b");
        await using var named = NodeProcess.Start(cluster.Router.Port, ["--engine", "ram", "--name", "db one"]);
        await using var unnamed = NodeProcess.Start(cluster.Router.Port, ["--engine", "dir", "--data", data]);
        await using var client = await cluster.ConnectAsync();
        var defaultName = $"{Environment.MachineName}:{Path.GetFullPath(data)}";
        await Eventually.WaitAsync(async () =>
        {
            var info = await RouterInfo.ReadAsync(client);
            return info.NodesServing == 2 && info.Nodes.Select(n => n.Fields.GetValueOrDefault("name")).Order().SequenceEqual(new[] { defaultName, "db_one" }.Order());
        }, what: "both nodes serving under their names");
        await named.WaitForLineAsync("Node starting: db_one,", TestCluster.Timeout, standardError: true);

        await client.SetAsync("a", "1");
        await client.SetAsync("b", "2");
        await Eventually.WaitAsync(async () => (await RouterInfo.ReadAsync(client)).Nodes.All(n => n.Fields.GetValueOrDefault("keys") == "2"),
            what: "every node reporting its 2 keys");

        var digest = await ConsoleProcess.RunAsync(["-p", cluster.Router.Port.ToString(CultureInfo.InvariantCulture), "digest"]);
        Assert.True(digest.Code == 0, digest.Stderr);
        Assert.Contains("name=db_one", digest.Text);
        Assert.Contains($"name={defaultName}", digest.Text);
    }

    [Fact]
    public async Task The_router_reads_a_config_file_and_its_password_from_a_file()
    {
        using var folder = new TempDirectory();
        var port = ChildProcess.FreePort();
        var passwordFile = folder.Write("password", "file-secret\n");
        var config = folder.Write("router.conf", $"""
            # settings are the long options without their dashes
            port = {port}
            data = {folder.PathOf("router-data")}
            password-file = {passwordFile}
            backlog = 1m
            """);
        await using var router = ChildProcess.StartProgram("Router", "kvndb-router", ["--config", config]);
        var options = new KvnDbClientOptions { Port = port, Password = "file-secret", ConnectTimeout = TimeSpan.FromSeconds(2) };
        await using var client = await Eventually.SucceedsAsync<KvnDbConnectionException, KvnDbClient>(() => KvnDbClient.ConnectAsync(options));
        await client.PingAsync();
        // A refusal comes after the router's 3 s delay for a wrong password.
        await Assert.ThrowsAsync<KvnDbAuthenticationException>(() => KvnDbClient.ConnectAsync(options with { Password = "", ConnectTimeout = TestCluster.Timeout }));
    }

    [Theory]
    [InlineData("Router", "kvndb-router", "--backlog", "lots", "--backlog")]
    [InlineData("Router", "kvndb-router", "--max-frame", "10g", "--max-frame")]
    [InlineData("NodeHost", "kvndb-node", "--memory", "plenty", "--memory")]
    [InlineData("Router", "kvndb-router", "--password-file", "/nonexistent/kvndb/password", "--password-file")]
    public async Task A_bad_option_value_is_a_clear_error_not_a_stack_trace(string project, string program, string option, string value, string named)
    {
        await using var process = ChildProcess.StartProgram(project, program, [option, value]);
        var code = await process.WaitForExitAsync(TestCluster.Timeout);
        Assert.NotEqual(0, code);
        Assert.Contains(named, process.Stderr);
        Assert.DoesNotContain("   at ", process.Output);
    }

    [Theory]
    [InlineData("100m", "128m", "--output-pause 104857600 bytes is above half the --output-limit (134217728 bytes): at most 67108864 bytes")]
    [InlineData("5m", "8m", "--output-pause 5242880 bytes is above half the --output-limit (8388608 bytes)")]
    [InlineData("1k", "128m", "--output-pause 1024 bytes: at least 65536 bytes")]
    public async Task An_output_pause_above_half_the_output_limit_is_refused_with_the_reason(string pause, string limit, string message)
    {
        await using var process = ChildProcess.StartProgram("Router", "kvndb-router", ["--output-pause", pause, "--output-limit", limit, "--port", "0"]);
        Assert.Equal(1, await process.WaitForExitAsync(TestCluster.Timeout));
        Assert.Contains(message, process.Stderr);
        Assert.DoesNotContain("   at ", process.Output);
    }

    [Fact]
    public async Task A_config_file_with_an_unknown_setting_names_the_line()
    {
        using var folder = new TempDirectory();
        var config = folder.Write("node.conf", "engine = ram\ncolour = blue\n");
        await using var process = ChildProcess.StartProgram("NodeHost", "kvndb-node", ["--config", config]);
        Assert.Equal(1, await process.WaitForExitAsync(TestCluster.Timeout));
        Assert.Contains("line 2: unknown setting 'colour'", process.Stderr);
    }
}

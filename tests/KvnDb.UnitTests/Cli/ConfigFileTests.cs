using System.CommandLine;
using KvnDb.Hosting;

namespace KvnDb.UnitTests.Cli;

public sealed class ConfigFileTests
{
    private static RootCommand Root() =>
    [
        new Option<int>("--port"),
        new Option<string?>("--password", "-p"),
        new Option<bool>("--insecure"),
        new Option<string>("--backlog"),
        ConfigFile.Option(),
    ];

    [Fact]
    public void Settings_become_options_and_the_command_line_wins()
    {
        using var folder = new TempDirectory();
        var file = folder.Write("router.conf", """
            # a comment
            port = 7000
            backlog = "256m"
            insecure = true
            password = from-file
            """);
        var args = ConfigFile.Apply(Root(), ["-p", "cli", "--config", file]);
        var parse = Root().Parse(args);
        Assert.Empty(parse.Errors);
        Assert.Equal(["--port", "7000", "--backlog", "256m", "--insecure", "-p", "cli", "--config", file], args);
    }

    [Fact]
    public void Json_holds_the_same_settings()
    {
        using var folder = new TempDirectory();
        var file = folder.Write("node.json", """{ "port": 7001, "insecure": false }""");
        Assert.Equal(["--port", "7001", "--config", file], ConfigFile.Apply(Root(), ["--config", file]));
    }

    [Theory]
    [InlineData("colour = blue", "line 1: unknown setting 'colour'")]
    [InlineData("port = 1\nport = 2", "line 2: 'port' is set twice")]
    [InlineData("insecure = maybe", "'insecure' is true or false")]
    [InlineData("just words", "expected 'key = value'")]
    public void A_bad_file_is_an_error_naming_the_line(string content, string message)
    {
        using var folder = new TempDirectory();
        var file = folder.Write("bad.conf", content);
        var error = Assert.Throws<FormatException>(() => ConfigFile.Apply(Root(), ["--config", file]));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Without_config_the_arguments_are_unchanged() =>
        Assert.Equal(["--port", "1"], ConfigFile.Apply(Root(), ["--port", "1"]));
}

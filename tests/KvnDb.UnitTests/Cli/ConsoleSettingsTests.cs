using KvnDb.Cli;

namespace KvnDb.UnitTests.Cli;

public sealed class ConsoleSettingsTests
{
    private static ConsoleSettings Parse(params string[] args) => ConsoleSettings.Parse(args, _ => null);

    [Fact]
    public void Redis_flags_come_first_and_the_command_keeps_its_words()
    {
        var settings = Parse("-h", "10.0.0.5", "-p", "7901", "-a", "pw", "-r", "3", "-i", "0.5", "--raw", "set", "-k", "-p");
        Assert.Equal("10.0.0.5", settings.Host);
        Assert.Equal(7901, settings.Port);
        Assert.Equal("pw", settings.Password);
        Assert.True(settings.PasswordOnCommandLine);
        Assert.Equal(3, settings.Repeat);
        Assert.Equal(TimeSpan.FromMilliseconds(500), settings.Interval);
        Assert.Equal(OutputMode.Raw, settings.Output);
        Assert.Equal(["set", "-k", "-p"], settings.Command);
    }

    [Fact]
    public void The_password_comes_from_a_file_or_the_environment_when_not_given()
    {
        using var folder = new TempDirectory();
        var file = folder.Write("pw", "from-file\nsecond line\n");
        Assert.Equal("from-file", ConsoleSettings.Parse(["--password-file", file, "ping"], _ => "from-env").Password);
        Assert.Equal("from-env", ConsoleSettings.Parse(["ping"], name => name == "KVNDB_PASSWORD" ? "from-env" : null).Password);
        Assert.False(ConsoleSettings.Parse(["ping"], _ => "from-env").PasswordOnCommandLine);
        Assert.Equal("", Parse("ping").Password);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("-p", "lots")]
    [InlineData("-p")]
    [InlineData("-r", "x")]
    [InlineData("--port=7")]
    [InlineData("--password-file", "/nonexistent/kvndb-password")]
    public void Bad_command_lines_are_clear_errors(params string[] args) =>
        Assert.Throws<FormatException>(() => Parse(args));
}

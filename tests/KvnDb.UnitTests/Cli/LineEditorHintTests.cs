using KvnDb.Cli;

namespace KvnDb.UnitTests.Cli;

public sealed class LineEditorHintTests
{
    [Theory]
    [InlineData("set ", "KEY VALUE [NX|XX] [EX SECONDS|PX MILLISECONDS] [KEEPTTL] [GET]")]
    [InlineData("SET k ", "VALUE [NX|XX] [EX SECONDS|PX MILLISECONDS] [KEEPTTL] [GET]")]
    [InlineData("cas k 7 ", "VALUE")]
    [InlineData("get k ", "")]
    [InlineData("get", "")]
    [InlineData("bogus ", "")]
    public void Hints_show_the_arguments_still_to_type(string line, string hint) => Assert.Equal(hint, LineEditor.Hint(line));

    [Fact]
    public void Tab_candidates_are_the_commands_and_aliases_with_that_start()
    {
        Assert.Equal(["incr", "incrby", "incrbyfloat"], CommandTable.Complete("inc"));
        Assert.Equal(["get", "getdel", "getkeys", "getv"], CommandTable.Complete("GE"));
        Assert.Empty(CommandTable.Complete("zz"));
    }

    [Fact]
    public void Every_command_has_help_and_is_found_in_any_case()
    {
        var help = CommandTable.Help();
        foreach (var command in CommandTable.All)
        {
            Assert.Contains(command.Name, help);
            Assert.Same(command, CommandTable.Find(command.Name.ToUpperInvariant()));
        }
    }
}

using KvnDb.Cli;

namespace KvnDb.UnitTests;

public sealed class CommandLineSplitterTests
{
    [Theory]
    [InlineData("set a b", new[] { "set", "a", "b" })]
    [InlineData("  set   a\tb  ", new[] { "set", "a", "b" })]
    [InlineData("set 'a b' \"c d\"", new[] { "set", "a b", "c d" })]
    [InlineData(@"set ""say \""hi\"""" 'it''s'", new[] { "set", "say \"hi\"", "its" })]
    [InlineData(@"set a\ b c", new[] { "set", "a b", "c" })]
    [InlineData("set k ''", new[] { "set", "k", "" })]
    [InlineData("", new string[0])]
    public void Splits_like_a_shell(string line, string[] expected) => Assert.Equal(expected, CommandLineSplitter.Split(line));

    [Theory]
    [InlineData("set 'open")]
    [InlineData("set \"open")]
    public void Unterminated_quotes_are_errors(string line) => Assert.Throws<FormatException>(() => CommandLineSplitter.Split(line));
}

using System.Text;
using KvnDb.Cli;

namespace KvnDb.UnitTests.Cli;

public sealed class ReplyPrinterTests
{
    [Theory]
    [InlineData(new byte[] { (byte)'h', (byte)'i' }, "\"hi\"")]
    [InlineData(new byte[] { 0x00, 0xff, 0x1b, (byte)'\n', (byte)'"', (byte)'\\' }, "\"\\x00\\xff\\x1b\\n\\\"\\\\\"")]
    [InlineData(new byte[] { 0xc3, 0xa9 }, "\"\\xc3\\xa9\"")] // UTF-8 shown as its bytes, as redis-cli does
    public void Quote_escapes_every_byte_that_is_not_printable_ascii(byte[] value, string expected) =>
        Assert.Equal(expected, ReplyPrinter.Quote(value));

    [Fact]
    public void A_quoted_value_typed_back_at_the_prompt_gives_the_same_bytes()
    {
        var value = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var words = CommandLineSplitter.SplitBytes("set k " + ReplyPrinter.Quote(value));
        Assert.Equal(value, words[2]);
    }

    [Theory]
    [InlineData("Formatted", "1) \"a\"\n2) (nil)\n3) (integer) 7\n")]
    [InlineData("Raw", "a\n\n7\n")]
    [InlineData("Csv", "\"a\",NULL,7\n")]
    public async Task Arrays_print_in_each_mode(string modeName, string expected)
    {
        var mode = Enum.Parse<OutputMode>(modeName);
        var text = new StringWriter();
        var printer = new ReplyPrinter(new ConsoleOutput(text), TextWriter.Null, mode);
        var exit = await printer.PrintAsync(new ConsoleReply.Multi([new ConsoleReply.Bulk("a"u8.ToArray()), ConsoleReply.NoValue, new ConsoleReply.Integer(7)]), default);
        Assert.Equal(0, exit);
        Assert.Equal(expected, text.ToString());
    }

    [Fact]
    public async Task Errors_go_to_standard_error_and_nil_is_exit_code_1()
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var printer = new ReplyPrinter(new ConsoleOutput(output), error, OutputMode.Formatted);
        Assert.Equal(1, await printer.PrintAsync(new ConsoleReply.Error("boom"), default));
        Assert.Equal(1, await printer.PrintAsync(ConsoleReply.NoValue, default));
        Assert.Equal("(nil)\n", output.ToString());
        Assert.Equal("(error) boom\n", error.ToString().ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Raw_mode_writes_the_bytes_themselves()
    {
        var stream = new MemoryStream();
        var printer = new ReplyPrinter(new ConsoleOutput(stream, isTerminal: false), TextWriter.Null, OutputMode.Raw);
        await printer.PrintAsync(new ConsoleReply.Bulk([0x00, 0xff, 0x80]), default);
        Assert.Equal(new byte[] { 0x00, 0xff, 0x80, (byte)'\n' }, stream.ToArray());
        Assert.Equal("x", Encoding.UTF8.GetString(CommandLineSplitter.SplitBytes("x")[0]));
    }
}

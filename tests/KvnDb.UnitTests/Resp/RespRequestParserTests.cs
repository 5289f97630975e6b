using System.Buffers;
using System.Text;
using KvnDb.Resp;

namespace KvnDb.UnitTests.Resp;

public sealed class RespRequestParserTests
{
    private const int Limit = 1024 * 1024;

    private static (RespParseStatus Status, string[] Arguments, int Length, string? Error) Parse(in ReadOnlySequence<byte> input)
    {
        var arguments = new RespArguments();
        var status = RespRequestParser.TryParse(input, Limit, arguments, out var length, out var error);
        var command = input.Slice(0, length).ToArray();
        var values = Enumerable.Range(0, status == RespParseStatus.Complete ? arguments.Count : 0)
            .Select(i => Encoding.UTF8.GetString(command, arguments.Offset(i), arguments.Length(i))).ToArray();
        return (status, values, length, error);
    }

    private static (RespParseStatus Status, string[] Arguments, int Length, string? Error) Parse(string input) =>
        Parse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(input)));

    [Fact]
    public void Reads_a_multibulk_command_and_stops_at_its_end()
    {
        var result = Parse("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n*1\r\n$4\r\nPING\r\n");
        Assert.Equal(RespParseStatus.Complete, result.Status);
        Assert.Equal(["SET", "key", ""], result.Arguments);
        Assert.Equal(28, result.Length);
    }

    [Fact]
    public void Every_truncation_is_incomplete_never_an_error()
    {
        var bytes = Encoding.UTF8.GetBytes("*2\r\n$3\r\nGET\r\n$10\r\n0123456789\r\n");
        for (var cut = 0; cut < bytes.Length; cut++)
            Assert.Equal(RespParseStatus.Incomplete, Parse(new ReadOnlySequence<byte>(bytes, 0, cut)).Status);
        Assert.Equal(RespParseStatus.Complete, Parse(new ReadOnlySequence<byte>(bytes)).Status);
    }

    [Fact]
    public void Multi_segment_input_parses_the_same_at_every_split()
    {
        var bytes = Encoding.UTF8.GetBytes("*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n");
        for (var split = 1; split < bytes.Length; split++)
        {
            var result = Parse(Segments.Create(bytes.AsMemory(..split), bytes.AsMemory(split..)));
            Assert.Equal(RespParseStatus.Complete, result.Status);
            Assert.Equal(["ECHO", "hello world"], result.Arguments);
        }
        var oneBytePerSegment = Parse(Segments.Create([.. bytes.Select(b => new[] { b })]));
        Assert.Equal(["ECHO", "hello world"], oneBytePerSegment.Arguments);
    }

    [Fact]
    public void Inline_commands_split_on_blanks_and_quotes()
    {
        var result = Parse("SET  key \"a value\"\tx\r\nGET key\r\n");
        Assert.Equal(RespParseStatus.Complete, result.Status);
        Assert.Equal(["SET", "key", "a value", "x"], result.Arguments);
        Assert.Equal(22, result.Length);
        Assert.Empty(Parse("\r\n").Arguments);
        Assert.Equal(RespParseStatus.Incomplete, Parse("PING").Status);
    }

    [Theory]
    [InlineData("*x\r\n", "invalid multibulk length")]
    [InlineData("*12345678901234567890\r\n", "invalid multibulk length")]
    [InlineData("*1048577\r\n", "invalid multibulk length")]
    [InlineData("*1\r\n$x\r\n", "invalid bulk length")]
    [InlineData("*1\r\n$-1\r\n", "invalid bulk length")]
    [InlineData("*1\r\n$1048577\r\n", "invalid bulk length")]
    [InlineData("*1\r\n$1048570\r\n", "command larger than the frame limit")]
    [InlineData("*1\r\n$1\r\nab\r\n", "bulk string not terminated by CRLF")]
    [InlineData("*1\r\n+PING\r\n", "expected '$', got '+'")]
    [InlineData("*1\r\n*1\r\n$1\r\na\r\n", "expected '$', got '*'")]
    [InlineData("GET \"a\"b\r\n", "unbalanced quotes in request")]
    [InlineData("GET 'a\n", "unbalanced quotes in request")]
    [InlineData("GET \"a\n", "unbalanced quotes in request")]
    public void Malformed_input_is_an_error_with_a_reason(string input, string reason)
    {
        var result = Parse(input);
        Assert.Equal(RespParseStatus.Error, result.Status);
        Assert.Equal(reason, result.Error);
    }

    [Fact]
    public void Single_quotes_group_words_like_double_quotes()
    {
        var result = Parse("SET k 'it is'\r\n");
        Assert.Equal(RespParseStatus.Complete, result.Status);
        Assert.Equal(["SET", "k", "it is"], result.Arguments);
    }

    [Theory]
    [InlineData("*11\r\n", "unauthenticated multibulk length")]
    [InlineData("*2\r\n$4\r\nAUTH\r\n$16385\r\n", "unauthenticated bulk length")]
    public void Before_auth_only_small_commands_are_read(string input, string reason)
    {
        var arguments = new RespArguments();
        var status = RespRequestParser.TryParse(new ReadOnlySequence<byte>(Encoding.UTF8.GetBytes(input)), Limit, arguments,
            out _, out var error, maxArguments: 10, maxBulk: 16 * 1024);
        Assert.Equal(RespParseStatus.Error, status);
        Assert.Equal(reason, error);
        // The same claims after auth are only incomplete: the bytes simply have not arrived.
        Assert.Equal(RespParseStatus.Incomplete, Parse(input).Status);
    }

    [Fact]
    public void A_huge_claimed_length_is_refused_from_its_header_alone()
    {
        // Nothing but the claim has arrived: refused at once, nothing sized by it.
        Assert.Equal(RespParseStatus.Error, Parse("*1\r\n$99999999999\r\n").Status);
        Assert.Equal(RespParseStatus.Error, Parse("*999999999\r\n").Status);
    }

    [Fact]
    public void An_inline_line_without_end_is_refused_past_64_KiB()
    {
        Assert.Equal(RespParseStatus.Incomplete, Parse(new string('a', RespRequestParser.MaxInlineLength)).Status);
        Assert.Equal(RespParseStatus.Error, Parse(new string('a', RespRequestParser.MaxInlineLength + 1)).Status);
    }
}

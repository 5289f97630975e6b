using System.Text;

namespace KvnDb.Bench.Tests;

public sealed class RespWireTests
{
    private readonly RespWire _wire = new();

    [Fact]
    public void SetIsEncodedAsAMultiBulkCommandOfTheAnnouncedSize()
    {
        var key = "key:000000000042"u8;
        var value = "xxx"u8;
        var buffer = new byte[_wire.RequestSize(TestKind.Set, key.Length, value.Length)];
        var written = _wire.WriteRequest(buffer, TestKind.Set, 1, key, value);
        Assert.Equal(buffer.Length, written);
        Assert.Equal("*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000042\r\n$3\r\nxxx\r\n", Encoding.ASCII.GetString(buffer));
    }

    [Fact]
    public void GetWithATenByteValueSizeCountsDigitsRight()
    {
        var key = new byte[10];
        var buffer = new byte[_wire.RequestSize(TestKind.Get, key.Length, 0)];
        Assert.Equal(buffer.Length, _wire.WriteRequest(buffer, TestKind.Get, 1, key, default));
        Assert.StartsWith("*2\r\n$3\r\nGET\r\n$10\r\n", Encoding.ASCII.GetString(buffer), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("+OK\r\n", false)]
    [InlineData(":1\r\n", false)]
    [InlineData("$-1\r\n", false)]
    [InlineData("$3\r\nxxx\r\n", false)]
    [InlineData("$0\r\n\r\n", false)]
    [InlineData("-ERR wrong\r\n", true)]
    public void EachReplyIsRecognisedWholeAndOnlyWhenComplete(string reply, bool error)
    {
        var bytes = Encoding.ASCII.GetBytes(reply + "+NEXT\r\n");
        Assert.Equal(reply.Length, RespWire.TryParseReply(bytes, out var isError));
        Assert.Equal(error, isError);
        for (var cut = 0; cut < reply.Length; cut++)
            Assert.Equal(0, RespWire.TryParseReply(bytes.AsSpan(0, cut), out _));
    }

    [Theory]
    [InlineData("*1\r\n$2\r\nhi\r\n")]
    [InlineData("$abc\r\n")]
    [InlineData("$-5\r\n")]
    public void UnexpectedRepliesAreRefused(string reply) =>
        Assert.Throws<InvalidDataException>(() => RespWire.TryParseReply(Encoding.ASCII.GetBytes(reply), out _));
}

using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.UnitTests.Protocol;

/// <summary>Router groups on the wire: the router identity at the end of a node's hello reply, and router addresses.</summary>
public sealed class RouterGroupMessageTests
{
    [Fact]
    public void Node_hello_reply_round_trips_the_router_identity_and_refuses_a_cut_one()
    {
        var sent = new HelloResponse(ProtocolLimits.Version, 9, 8 << 20, 1024, Router: new RouterIdentity(42, "10.0.0.7:54565"));
        var body = Encode(sent);
        Assert.Equal(HelloResponse.BodySize + 8 + 4 + 14, body.Length);
        Assert.True(HelloResponse.TryReadNodeReply(body, out var read));
        Assert.Equal(sent, read);
        // The common part alone is a router without a group: term 0, accepted.
        Assert.True(HelloResponse.TryReadNodeReply(body.AsSpan(0, HelloResponse.BodySize), out var single));
        Assert.Null(single.Router);
        for (var length = HelloResponse.BodySize + 1; length < body.Length; length++)
            Assert.False(HelloResponse.TryReadNodeReply(body.AsSpan(0, length), out _));
    }

    [Fact]
    public void Node_hello_reply_refuses_a_router_address_above_its_bound()
    {
        var body = Encode(new HelloResponse(ProtocolLimits.Version, 9, 8 << 20, 1024, Router: new RouterIdentity(1, new string('a', RouterIdentity.MaxRouterLength + 1))));
        Assert.False(HelloResponse.TryReadNodeReply(body, out _));
    }

    [Theory]
    [InlineData("127.0.0.1:7000", "127.0.0.1", 7000)]
    [InlineData(" router-2:7001 ", "router-2", 7001)]
    [InlineData("router-3", "router-3", ProtocolLimits.DefaultPort)]
    [InlineData("[::1]:7002", "::1", 7002)]
    [InlineData("::1", "::1", ProtocolLimits.DefaultPort)]
    public void Router_addresses_parse(string text, string host, int port)
    {
        Assert.True(RouterAddress.TryParse(text, out var address));
        Assert.Equal(new RouterAddress(host, port), address);
        Assert.True(RouterAddress.TryParse(address.ToString(), out var again));
        Assert.Equal(address, again);
    }

    [Theory]
    [InlineData("")]
    [InlineData("host:")]
    [InlineData(":7000")]
    [InlineData("host:0")]
    [InlineData("host:70000")]
    [InlineData("host:x")]
    [InlineData("[::1")]
    [InlineData("[::1]7000")]
    public void Bad_router_addresses_are_refused(string text) => Assert.False(RouterAddress.TryParse(text, out _));

    [Fact]
    public void A_router_list_names_its_bad_entry()
    {
        Assert.Equal([new RouterAddress("a", 1), new RouterAddress("b", 2)], RouterAddress.ParseList("a:1, b:2"));
        var error = Assert.Throws<FormatException>(() => RouterAddress.ParseList("a:1,b:x"));
        Assert.Contains("'b:x'", error.Message, StringComparison.Ordinal);
    }

    private static byte[] Encode(HelloResponse response)
    {
        var output = new ArrayBufferWriter<byte>();
        response.Write(output, 1);
        var header = FrameHeader.Read(output.WrittenSpan);
        Assert.Equal(output.WrittenCount, header.FrameLength);
        return output.WrittenSpan[ProtocolLimits.HeaderSize..].ToArray();
    }
}

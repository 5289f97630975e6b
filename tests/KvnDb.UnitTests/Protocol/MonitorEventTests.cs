using System.Buffers;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.UnitTests.Protocol;

public sealed class MonitorEventTests
{
    [Fact]
    public void An_event_round_trips_and_any_shorter_body_is_refused()
    {
        var sent = new MonitorEvent(MonitorEventKind.Command, 1_733_000_000_123_456, 7, Opcode.Set, 1, 42, "user:1"u8.ToArray(), "127.0.0.1:5000");
        var output = new ArrayBufferWriter<byte>();
        sent.Write(output, 9);
        var header = FrameHeader.Read(output.WrittenSpan);
        Assert.Equal(Opcode.Monitor, header.Opcode);
        Assert.True(header.HasMore);
        var body = output.WrittenSpan[ProtocolLimits.HeaderSize..].ToArray();
        Assert.True(MonitorEvent.TryRead(body, out var read));
        Assert.Equal(sent with { Key = read.Key }, read);
        Assert.Equal("user:1", Encoding.UTF8.GetString(read.Key));
        for (var length = 0; length < body.Length; length++)
            Assert.False(MonitorEvent.TryRead(body.AsSpan(0, length), out _));
    }

    [Fact]
    public void The_first_key_of_each_request_kind_is_found_and_long_keys_are_cut()
    {
        var key = new byte[200];
        var body = new byte[KeyRequest.BodyLength(key.Length)];
        KeyRequest.WriteBody(body, key);
        Assert.Equal(MonitorEvent.MaxKeyBytes, MonitorEvent.FirstKey(Opcode.Get, body, out var count).Length);
        Assert.Equal(1u, count);
        Assert.True(MonitorEvent.FirstKey(Opcode.Ping, [], out count).IsEmpty);
        Assert.Equal(0u, count);
        Assert.True(MonitorEvent.FirstKey(Opcode.Set, [1, 2, 3], out count).IsEmpty); // malformed: reported, not judged
    }

    [Fact]
    public void A_node_name_travels_in_the_hello_and_old_bodies_still_read()
    {
        var named = new HelloRequest(ProtocolLimits.Version, ConnectionRole.Node, "pw", 1, Guid.NewGuid(), Guid.NewGuid(), NodeHelloFlags.None, 100, "db1:/var/lib/kvndb/a");
        var output = new ArrayBufferWriter<byte>();
        named.Write(output, 1);
        var body = output.WrittenSpan[ProtocolLimits.HeaderSize..].ToArray();
        Assert.True(HelloRequest.TryRead(body, out var read));
        Assert.Equal("db1:/var/lib/kvndb/a", Encoding.UTF8.GetString(read.NodeName));
        Assert.True(read.GroupName.IsEmpty); // no group field: the default group
        // The group name is the next trailing field (a malformed one makes the hello malformed); later ones are ignored.
        Assert.False(HelloRequest.TryRead([.. body, 9, 9, 9, 9, 9], out _));
        var grouped = new ArrayBufferWriter<byte>();
        (named with { GroupName = "b" }).Write(grouped, 1);
        Assert.True(HelloRequest.TryRead([.. grouped.WrittenSpan[ProtocolLimits.HeaderSize..], 9, 9, 9, 9, 9], out var withGroup));
        Assert.Equal("b", Encoding.UTF8.GetString(withGroup.GroupName));
        Assert.Equal("db1:/var/lib/kvndb/a", Encoding.UTF8.GetString(withGroup.NodeName));

        var unnamed = named with { NodeName = "" };
        var plain = new ArrayBufferWriter<byte>();
        unnamed.Write(plain, 1);
        Assert.Equal(HelloRequest.FixedSize + 2, plain.WrittenCount - ProtocolLimits.HeaderSize);
        Assert.True(HelloRequest.TryRead(plain.WrittenSpan[ProtocolLimits.HeaderSize..], out var old));
        Assert.True(old.NodeName.IsEmpty);
        Assert.Equal("a_b_c", HelloRequest.CleanNodeName("a b=c"));

        // A group without a name: an empty name field goes first, so the group is the second trailing field.
        var groupOnly = new ArrayBufferWriter<byte>();
        (unnamed with { GroupName = "a" }).Write(groupOnly, 1);
        Assert.True(HelloRequest.TryRead(groupOnly.WrittenSpan[ProtocolLimits.HeaderSize..], out var anonymous));
        Assert.True(anonymous.NodeName.IsEmpty);
        Assert.Equal("a", Encoding.UTF8.GetString(anonymous.GroupName));
    }

    [Theory]
    [InlineData("default", true)]
    [InlineData("a-1_b.c", true)]
    [InlineData("", false)]
    [InlineData("a b", false)]
    [InlineData("grüppe", false)]
    public void Group_names_are_one_plain_word(string name, bool valid) => Assert.Equal(valid, HelloRequest.IsValidGroupName(name));
}

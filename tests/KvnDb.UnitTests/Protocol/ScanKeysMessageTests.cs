using System.Buffers;
using System.Text;
using KvnDb.Protocol;

namespace KvnDb.UnitTests.Protocol;

/// <summary>ScanKeys (0x18): the request and the page reply read back, every cut or padded body refused; the slot function.</summary>
public sealed class ScanKeysMessageTests
{
    [Fact]
    public void Request_round_trips_and_refuses_any_other_body()
    {
        var body = new byte[ScanKeysRequest.BodyLength(6)];
        Assert.Equal(body.Length, ScanKeysRequest.WriteBody(body, 3, ScanKeysRequest.PositionLimit - 1, 10, "user:*"u8));
        Assert.True(ScanKeysRequest.TryRead(body, out var database, out var position, out var count, out var pattern));
        Assert.Equal(3, database);
        Assert.Equal(ScanKeysRequest.PositionLimit - 1, position);
        Assert.Equal(10u, count);
        Assert.Equal("user:*", Encoding.UTF8.GetString(pattern));

        for (var length = 0; length < body.Length; length++)
            Assert.False(ScanKeysRequest.TryRead(body.AsSpan(0, length), out _, out _, out _, out _));
        Assert.False(ScanKeysRequest.TryRead([.. body, 0], out _, out _, out _, out _));
    }

    [Fact]
    public void A_bounded_request_round_trips_and_refuses_an_end_not_above_its_position_or_past_the_limit()
    {
        var body = new byte[ScanKeysRequest.BoundedBodyLength(1)];
        Assert.Equal(body.Length, ScanKeysRequest.WriteBody(body, 0, 100, 10, "*"u8, ScanKeysRequest.FirstPositionOf(4096)));
        Assert.True(ScanKeysRequest.TryRead(body, out _, out var position, out _, out _, out var end));
        Assert.Equal((100UL, 4096UL << 34), (position, end));
        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.ScanKeys, body, 64));
        Assert.True(ScanKeysRequest.TryRead(body.AsSpan(0, ScanKeysRequest.BodyLength(1)), out _, out _, out _, out _, out var none));
        Assert.Equal(ScanKeysRequest.PositionLimit, none);
        Assert.Equal(4096, ScanKeysRequest.SlotOf(end));

        foreach (var bad in new[] { 100UL, 99UL, ScanKeysRequest.PositionLimit + 1 })
        {
            ScanKeysRequest.WriteBody(body, 0, 100, 10, "*"u8, bad);
            Assert.False(ScanKeysRequest.TryRead(body, out _, out _, out _, out _, out _));
        }
        Assert.False(ScanKeysRequest.TryRead([.. body, 0], out _, out _, out _, out _, out _));
    }

    [Fact]
    public void A_key_count_with_excluded_slots_reads_back_and_is_not_a_client_body()
    {
        var body = new byte[KeyCountRequest.ExcludingSize];
        Assert.Equal(body.Length, KeyCountRequest.WriteBody(body, 5, SlotSet.Of([7, 16383])));
        Assert.True(KeyCountRequest.TryRead(body, out var database, out var excluded));
        Assert.Equal(5, database);
        Assert.Equal([7, 16383], SlotSet.Slots(excluded));
        Assert.True(KeyCountRequest.TryRead(body.AsSpan(0, 1), out _, out var none));
        Assert.True(none.IsEmpty);
        Assert.False(KeyCountRequest.TryRead(body.AsSpan(0, 2), out _, out _));
        Assert.Equal(StatusCode.ProtocolError, BodyValidator.Validate(Opcode.KeyCount, body, 64)); // router to node only
    }

    [Fact]
    public void GroupControl_round_trips_an_add_and_refuses_bad_names_and_actions()
    {
        var body = new byte[GroupControlRequest.BodyLength(3)];
        Assert.Equal(body.Length, GroupControlRequest.WriteBody(body, GroupControlAction.Add, "c-1"));
        Assert.True(GroupControlRequest.TryRead(body, out var action, out var name));
        Assert.Equal((GroupControlAction.Add, "c-1"), (action, name));
        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.GroupControl, body, 64));
        Assert.False(GroupControlRequest.TryRead(body.AsSpan(0, body.Length - 1), out _, out _));
        Assert.False(GroupControlRequest.TryRead([.. body, 0], out _, out _));
        var unknown = body.ToArray();
        unknown[0] = 2;
        Assert.False(GroupControlRequest.TryRead(unknown, out _, out _));
        var badName = new byte[GroupControlRequest.BodyLength(3)];
        GroupControlRequest.WriteBody(badName, GroupControlAction.Add, "a b");
        Assert.Equal(StatusCode.ProtocolError, BodyValidator.Validate(Opcode.GroupControl, badName, 64));
        var empty = new byte[GroupControlRequest.BodyLength(0)];
        GroupControlRequest.WriteBody(empty, GroupControlAction.Add, "");
        Assert.False(GroupControlRequest.TryRead(empty, out _, out _));
    }

    [Theory]
    [InlineData(16, 0UL, 1u)] // databases are 0 to 15
    [InlineData(0, 1UL << 48, 1u)] // a position has 48 bits
    [InlineData(0, 0UL, 0u)] // a page asks for at least one key
    public void Request_refuses_fields_out_of_range(byte database, ulong position, uint count)
    {
        var body = new byte[ScanKeysRequest.BodyLength(0)];
        ScanKeysRequest.WriteBody(body, database, position, count, default);
        Assert.False(ScanKeysRequest.TryRead(body, out _, out _, out _, out _));
        Assert.Equal(StatusCode.ProtocolError, BodyValidator.Validate(Opcode.ScanKeys, body, 64));
    }

    [Fact]
    public void Validator_bounds_the_pattern_by_the_key_limit()
    {
        var body = new byte[ScanKeysRequest.BodyLength(65)];
        ScanKeysRequest.WriteBody(body, 0, 0, 10, new byte[65]);
        Assert.Equal(StatusCode.KeyTooLarge, BodyValidator.Validate(Opcode.ScanKeys, body, 64));
        Assert.Equal(StatusCode.Ok, BodyValidator.Validate(Opcode.ScanKeys, body, 65));
        Assert.True(Opcode.ScanKeys.IsRead());
    }

    [Fact]
    public void Reply_round_trips_and_is_a_well_formed_read_only_whole()
    {
        var output = new ArrayBufferWriter<byte>();
        ScanKeysReply.Write(output, 9, 12345, [Encoding.UTF8.GetBytes("a"), Array.Empty<byte>(), Encoding.UTF8.GetBytes("ccc")]);
        var header = FrameHeader.Read(output.WrittenSpan);
        Assert.Equal((Opcode.ScanKeys, 9UL, output.WrittenCount), (header.Opcode, header.RequestId, header.FrameLength));
        var body = output.WrittenSpan[ProtocolLimits.HeaderSize..].ToArray();

        Assert.True(ScanKeysReply.TryRead(body, out var page));
        Assert.Equal((12345UL, 3u), (page.Next, page.Count));
        var keys = new List<string>();
        while (page.TryReadNext(out var key))
            keys.Add(Encoding.UTF8.GetString(key));
        Assert.True(page.IsComplete);
        Assert.Equal(["a", "", "ccc"], keys);
        Assert.True(NodeReplyRules.IsWellFormedRead(Opcode.ScanKeys, StatusCode.Ok, body, default));

        for (var length = 0; length < body.Length; length++)
            Assert.False(NodeReplyRules.IsWellFormedRead(Opcode.ScanKeys, StatusCode.Ok, body.AsSpan(0, length), default));
        Assert.False(NodeReplyRules.IsWellFormedRead(Opcode.ScanKeys, StatusCode.Ok, [.. body, 0], default));
        Assert.False(NodeReplyRules.IsWellFormedRead(Opcode.ScanKeys, StatusCode.NotFound, [], default));
        var outOfRange = body.ToArray();
        outOfRange[6] = 1; // next position at 2^48
        Assert.False(ScanKeysReply.TryRead(outOfRange, out _));
    }

    [Theory]
    [InlineData("123456789", 0x31C3)] // the CRC16-XMODEM check value
    public void Crc16_is_xmodem(string text, int crc) => Assert.Equal(crc, KeySlot.Crc16(Encoding.ASCII.GetBytes(text)));

    [Theory]
    [InlineData("foo", "foo")]
    [InlineData("{user1000}.following", "user1000")]
    [InlineData("foo{}{bar}", "foo{}{bar}")] // an empty tag hashes the whole key
    [InlineData("foo{{bar}}zap", "{bar")]
    [InlineData("foo{bar}{zap}", "bar")]
    [InlineData("no{close", "no{close")]
    public void Hash_tags_follow_redis_cluster(string key, string hashed)
    {
        Assert.Equal(hashed, Encoding.ASCII.GetString(KeySlot.HashedPart(Encoding.ASCII.GetBytes(key))));
        Assert.Equal(KeySlot.Crc16(Encoding.ASCII.GetBytes(hashed)) % KeySlot.Count, KeySlot.Of(Encoding.ASCII.GetBytes(key)));
    }

    [Fact]
    public void Slots_are_those_redis_cluster_gives()
    {
        Assert.Equal(12182, KeySlot.Of("foo"u8));
        Assert.Equal(5061, KeySlot.Of("bar"u8));
        Assert.Equal(KeySlot.Of("{user1000}.following"u8), KeySlot.Of("{user1000}.followers"u8));
    }
}

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

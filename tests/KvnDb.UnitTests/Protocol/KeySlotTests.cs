using System.Text;
using KvnDb.Protocol;

namespace KvnDb.UnitTests.Protocol;

/// <summary>Slots as Redis Cluster computes them (CLUSTER KEYSLOT), hash tags included.</summary>
public sealed class KeySlotTests
{
    [Fact]
    public void Crc16_is_xmodem_as_in_redis_cluster() =>
        Assert.Equal(0x31C3, KeySlot.Crc16("123456789"u8));

    [Theory]
    // Values from the Redis documentation of CLUSTER KEYSLOT and its cluster specification.
    [InlineData("somekey", 11058)]
    [InlineData("foo", 12182)]
    [InlineData("bar", 5061)]
    [InlineData("hello", 866)]
    [InlineData("", 0)]
    public void Slot_of_a_key_is_its_crc16_modulo_16384(string key, int slot) =>
        Assert.Equal(slot, KeySlot.Of(Encoding.UTF8.GetBytes(key)));

    [Theory]
    [InlineData("{user1000}.following", "user1000")]
    [InlineData("{user1000}.followers", "user1000")]
    [InlineData("foo{bar}{zap}", "bar")] // the first tag only
    [InlineData("foo{{bar}}zap", "{bar")] // from the first '{' to the first '}' after it
    [InlineData("foo{}{bar}", "foo{}{bar}")] // an empty tag: the whole key
    [InlineData("foo{bar", "foo{bar")] // no closing brace: the whole key
    [InlineData("foo}bar{", "foo}bar{")]
    public void A_hash_tag_decides_the_slot(string key, string hashed)
    {
        Assert.Equal(hashed, Encoding.UTF8.GetString(KeySlot.HashedPart(Encoding.UTF8.GetBytes(key))));
        Assert.Equal(KeySlot.Of(Encoding.UTF8.GetBytes(hashed)), KeySlot.Of(Encoding.UTF8.GetBytes(key)));
    }

    [Fact]
    public void A_key_keeps_its_slot_in_every_database()
    {
        var key = "somekey"u8;
        var stored = new byte[DatabaseKeys.PrefixSize + key.Length];
        DatabaseKeys.WritePrefix(stored, 7);
        key.CopyTo(stored.AsSpan(DatabaseKeys.PrefixSize));
        Assert.Equal(11058, KeySlot.Of(stored));
    }

    [Fact]
    public void Slots_spread_evenly_over_many_keys()
    {
        var counts = new int[4];
        for (var i = 0; i < 40_000; i++)
            counts[KeySlot.Of(Encoding.UTF8.GetBytes($"key:{i}")) * 4 / KeySlot.Count]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }
}

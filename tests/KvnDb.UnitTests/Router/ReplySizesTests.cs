using System.Buffers;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.UnitTests.Router;

/// <summary>What a request's reply may weigh, known before a node answers (the warm-up attack's bound).</summary>
public sealed class ReplySizesTests
{
    private const int MaxFrame = 64 << 20;

    [Fact]
    public void A_key_written_large_is_estimated_large_and_a_small_one_small()
    {
        var sizes = new ReplySizes(MaxFrame);
        sizes.LearnWrite(Opcode.Set, SetBody("big", 1 << 20));
        sizes.LearnWrite(Opcode.Set, SetBody("small", 3));
        Assert.InRange(sizes.Estimate(Opcode.Get, KeyBody("big")), 1 << 20, (1 << 20) + 64);
        Assert.InRange(sizes.Estimate(Opcode.Get, KeyBody("small")), 3, 64);
        // Grow-only: a smaller write does not lower it (keys sharing a bucket share the larger estimate).
        sizes.LearnWrite(Opcode.Set, SetBody("big", 10));
        Assert.True(sizes.Estimate(Opcode.GetVersioned, KeyBody("big")) >= 1 << 20);
    }

    [Fact]
    public void A_key_never_seen_written_counts_as_the_largest_value_seen_anywhere()
    {
        var sizes = new ReplySizes(MaxFrame);
        Assert.Equal(0, sizes.Largest);
        sizes.ObserveReply(5 << 20); // a reply for data from before this router started
        Assert.True(sizes.Estimate(Opcode.Get, KeyBody("old")) >= 5 << 20);
        sizes.LearnWrite(Opcode.Set, SetBody("new", 10));
        Assert.True(sizes.Estimate(Opcode.Get, KeyBody("new")) < 100);
    }

    [Fact]
    public void Multi_key_reads_add_up_and_appends_grow_the_estimate()
    {
        var sizes = new ReplySizes(MaxFrame);
        sizes.LearnWrite(Opcode.MultiSet, Counted([("a", 1000), ("b", 2000)]));
        Assert.True(sizes.Estimate(Opcode.MultiGet, Counted([("a", -1), ("b", -1)])) >= 3000);
        sizes.LearnWrite(Opcode.Append, SetBody("a", 5000));
        Assert.True(sizes.Estimate(Opcode.Get, KeyBody("a")) >= 6000);
        // Replies with a small fixed size never narrow a window.
        Assert.Equal(0, sizes.Estimate(Opcode.Exists, KeyBody("a")));
        Assert.Equal(0, sizes.Estimate(Opcode.Get, [1, 2])); // malformed: refused before it is forwarded
    }

    private static byte[] KeyBody(string key)
    {
        var body = new byte[KeyRequest.BodyLength(key)];
        KeyRequest.WriteBody(body, key);
        return body;
    }

    private static byte[] SetBody(string key, int valueLength)
    {
        var keyBytes = System.Text.Encoding.UTF8.GetBytes(key);
        var body = new byte[SetRequest.BodyLength(keyBytes.Length, valueLength)];
        SetRequest.WriteBody(body, keyBytes, new byte[valueLength]);
        return body;
    }

    /// <summary>A MultiSet body (pairs with a value length) or a MultiGet body (every value length -1).</summary>
    private static byte[] Counted((string Key, int ValueLength)[] entries)
    {
        var keys = entries.Select(e => System.Text.Encoding.UTF8.GetBytes(e.Key)).ToArray();
        var pairs = entries[0].ValueLength >= 0;
        var length = CountedBodyWriter.HeaderSize + keys.Sum(k => CountedBodyWriter.FieldSize(k.Length))
            + (pairs ? entries.Sum(e => CountedBodyWriter.FieldSize(e.ValueLength)) : 0);
        var output = new ArrayBufferWriter<byte>();
        var writer = new CountedBodyWriter(output, pairs ? Opcode.MultiSet : Opcode.MultiGet, FrameFlags.None, 1, length, entries.Length, pairs ? 2 : 1);
        for (var i = 0; i < keys.Length; i++)
        {
            writer.Field(keys[i]);
            if (pairs)
                writer.Field(new byte[entries[i].ValueLength]);
        }
        _ = writer.Complete();
        return output.WrittenSpan[ProtocolLimits.HeaderSize..].ToArray();
    }
}

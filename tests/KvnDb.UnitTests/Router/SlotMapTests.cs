using System.Text;
using KvnDb.Protocol;
using KvnDb.Router.Groups;

namespace KvnDb.UnitTests.Router;

/// <summary>The slot map: even first assignment, stored as ranges and read back, and which group a request belongs to.</summary>
public sealed class SlotMapTests
{
    [Fact]
    public void Slots_split_evenly_and_round_trip_through_ranges()
    {
        var map = SlotMap.Even(["a", "b", "c"], 3);
        Assert.Equal("5462,5461,5461", string.Join(",", map.SlotCounts()));
        var ranges = map.ToRanges();
        Assert.Equal("0-5461=a 5462-10922=b 10923-16383=c", string.Join(" ", ranges.Select(r => $"{r.First}-{r.Last}={r.Group}")));
        var read = SlotMap.FromRanges(ranges, ["a", "b", "c"]);
        Assert.Equal(map.SlotCounts(), read.SlotCounts());
        Assert.Equal(2, read.GroupOf(KeySlot.Count - 1));
    }

    [Fact]
    public void A_group_added_later_owns_nothing()
    {
        var map = SlotMap.Even(["a", "b", "new"], 2);
        Assert.Equal("8192,8192,0", string.Join(",", map.SlotCounts()));
    }

    [Fact]
    public void A_stored_map_with_a_gap_or_an_overlap_is_refused()
    {
        Assert.Throws<InvalidDataException>(() => SlotMap.FromRanges([new SlotRange(0, 100, "a")], ["a"]));
        Assert.Throws<InvalidDataException>(() => SlotMap.FromRanges([new SlotRange(0, 16383, "a"), new SlotRange(5, 5, "a")], ["a"]));
        Assert.Throws<InvalidDataException>(() => SlotMap.FromRanges([new SlotRange(0, 16383, "x")], ["a"]));
        Assert.Throws<ArgumentException>(() => SlotMap.Even(["a", "a"], 2));
    }

    [Fact]
    public void A_request_belongs_to_the_group_of_its_keys_or_to_several()
    {
        var map = SlotMap.Even(["a", "b"], 2);
        var (inA, inB) = (Key(map, 0), Key(map, 1));
        Assert.Equal(0, RequestGroups.Of(Opcode.Get, KeyBody(inA), map));
        Assert.Equal(1, RequestGroups.Of(Opcode.Delete, KeyBody(inB), map));
        Assert.Equal(RequestGroups.Every, RequestGroups.Of(Opcode.ListKeys, KeyBody(""), map));
        Assert.Equal(RequestGroups.Several, RequestGroups.Of(Opcode.MultiGet, MultiGet(inA, inB), map));
        Assert.Equal(1, RequestGroups.Of(Opcode.MultiGet, MultiGet(inB, inB), map));
        // A hash tag keeps related keys together.
        Assert.Equal(map.GroupOfKey("{x}1"u8), RequestGroups.Of(Opcode.MultiGet, MultiGet("{x}1", "{x}2"), map));
    }

    [Fact]
    public void A_multi_get_across_groups_splits_into_one_request_per_group_in_key_order()
    {
        var map = SlotMap.Even(["a", "b"], 2);
        string[] keys = [Key(map, 1), Key(map, 0), Key(map, 1, skip: 1)];
        var body = MultiGet(keys);
        Assert.True(RequestSplitter.TrySplit(new FrameHeader(body.Length, Opcode.MultiGet, FrameFlags.None, StatusCode.Ok, 9), body, map, out var split));
        Assert.Equal("1,0", string.Join(",", split.Groups));
        Assert.Equal("0,1,0", string.Join(",", split.PartOfItem));
        var first = FrameHeader.Read(split.Frames[0].AsSpan());
        Assert.Equal(0UL, first.RequestId);
        Assert.True(MultiGetRequest.TryRead(split.Frames[0].AsSpan(ProtocolLimits.HeaderSize), out var part));
        Assert.Equal(2u, part.Count);
        Assert.True(part.TryReadNext(out var k0));
        Assert.Equal(keys[0], Encoding.UTF8.GetString(k0));
        Assert.True(part.TryReadNext(out var k2));
        Assert.Equal(keys[2], Encoding.UTF8.GetString(k2));
    }

    private static string Key(SlotMap map, int group, int skip = 0) =>
        Enumerable.Range(0, 1000).Select(i => $"k{i}").Where(k => map.GroupOfKey(Encoding.UTF8.GetBytes(k)) == group).Skip(skip).First();

    private static byte[] KeyBody(string key)
    {
        var body = new byte[KeyRequest.BodyLength(key)];
        KeyRequest.WriteBody(body, key);
        return body;
    }

    private static byte[] MultiGet(params string[] keys)
    {
        var body = new byte[CountedBodyWriter.HeaderSize + keys.Sum(k => CountedBodyWriter.FieldSize(Encoding.UTF8.GetByteCount(k)))];
        var writer = new CountedBodyWriter(body, keys.Length, 1);
        foreach (var key in keys)
            writer.Field(Encoding.UTF8.GetBytes(key));
        _ = writer.Complete();
        return body;
    }
}

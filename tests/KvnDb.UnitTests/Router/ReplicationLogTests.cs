using System.Buffers;
using KvnDb.Protocol;
using KvnDb.Router.Replication;

namespace KvnDb.UnitTests.Router;

public sealed class ReplicationLogTests
{
    private static ReadOnlySequence<byte> Body(int size, byte fill = 7) => new(Enumerable.Repeat(fill, size).ToArray());

    /// <summary>Every frame a cursor copies, decoded: (sequence, request id, body length).</summary>
    private static List<(ulong Sequence, ulong RequestId, int ClientBody)> Drain(LogCursor cursor, ulong until = ulong.MaxValue)
    {
        var output = new ArrayBufferWriter<byte>();
        cursor.CopyTo(output, until);
        var frames = new List<(ulong, ulong, int)>();
        var bytes = output.WrittenSpan;
        while (bytes.Length > 0)
        {
            var header = FrameHeader.Read(bytes);
            Assert.True(SequencedWrite.TryRead(bytes.Slice(ProtocolLimits.HeaderSize, header.BodyLength), out var sequence, out _, out var client));
            frames.Add((sequence, header.RequestId, client.Length));
            bytes = bytes[(ProtocolLimits.HeaderSize + header.BodyLength)..];
        }
        return frames;
    }

    [Fact]
    public void A_cursor_at_the_end_sees_exactly_the_writes_appended_after_it_in_order()
    {
        var log = new ReplicationLog(64 * 1024, startSequence: 10);
        var cursor = log.OpenCursorAtEnd();
        for (ulong s = 11; s <= 20; s++)
            log.Append(Opcode.Set, requestId: 100 + s, s, time: 0, Body((int)s));
        var frames = Drain(cursor);
        Assert.Equal([.. Enumerable.Range(11, 10).Select(i => (ulong)i)], frames.Select(f => f.Sequence));
        Assert.All(frames, f => Assert.Equal(100 + f.Sequence, f.RequestId));
        Assert.Equal(20UL, cursor.Sequence);
        Assert.Empty(Drain(cursor)); // nothing new: nothing copied
    }

    [Fact]
    public void A_replay_cursor_starts_right_after_the_given_sequence_across_segments()
    {
        var log = new ReplicationLog(64 * 1024); // segments of 8 KiB
        for (ulong s = 1; s <= 100; s++)
            log.Append(Opcode.Set, s, s, time: 0, Body(500));
        Assert.True(log.Covers(0));
        var cursor = log.OpenCursorAfter(57);
        var frames = Drain(cursor);
        Assert.Equal(58UL, frames[0].Sequence);
        Assert.Equal(100UL, frames[^1].Sequence);
        Assert.Equal(43, frames.Count);
    }

    [Fact]
    public void Copy_stops_after_the_requested_sequence()
    {
        var log = new ReplicationLog(64 * 1024);
        var cursor = log.OpenCursorAtEnd();
        for (ulong s = 1; s <= 5; s++)
            log.Append(Opcode.Delete, s, s, time: 0, Body(4));
        Assert.Equal([1UL, 2UL, 3UL], Drain(cursor, until: 3).Select(f => f.Sequence));
        Assert.Equal([4UL, 5UL], Drain(cursor).Select(f => f.Sequence));
    }

    [Fact]
    public void Old_segments_are_evicted_past_the_capacity_unless_a_cursor_still_needs_them()
    {
        var log = new ReplicationLog(32 * 1024); // 4 KiB segments
        var laggard = log.OpenCursorAtEnd();
        for (ulong s = 1; s <= 400; s++)
            log.Append(Opcode.Set, s, s, time: 0, Body(200));
        // The laggard pins everything it has not been sent.
        Assert.True(log.Covers(0));
        Assert.True(log.Bytes > log.Capacity);
        Assert.Equal(400, Drain(laggard).Count);
        laggard.Close();
        for (ulong s = 401; s <= 800; s++)
            log.Append(Opcode.Set, s, s, time: 0, Body(200));
        Assert.False(log.Covers(0));
        Assert.True(log.Bytes <= log.Capacity + 4096);
        Assert.True(log.Covers(log.OldestSequence - 1));
        Assert.Equal(800UL, Drain(log.OpenCursorAfter(log.OldestSequence - 1))[^1].Sequence);
    }

    [Fact]
    public void A_write_larger_than_a_segment_gets_its_own()
    {
        var log = new ReplicationLog(64 * 1024);
        var cursor = log.OpenCursorAtEnd();
        log.Append(Opcode.Set, 1, 1, time: 0, Body(100));
        log.Append(Opcode.Set, 2, 2, time: 0, Body(200_000));
        log.Append(Opcode.Set, 3, 3, time: 0, Body(100));
        Assert.Equal([100, 200_000, 100], Drain(cursor).Select(f => f.ClientBody));
    }

    [Fact]
    public void Unsent_bytes_follow_the_cursor_position()
    {
        var log = new ReplicationLog(64 * 1024);
        var cursor = log.OpenCursorAtEnd();
        log.Append(Opcode.Set, 1, 1, time: 0, Body(100));
        Assert.Equal(SequencedWrite.FrameLength(100), log.AppendedBytes - cursor.Position);
        Drain(cursor);
        Assert.Equal(0, log.AppendedBytes - cursor.Position);
    }

    [Fact]
    public void Reset_continues_from_the_adopted_sequence()
    {
        var log = new ReplicationLog(64 * 1024);
        log.Append(Opcode.Set, 1, 1, time: 0, Body(10));
        log.Reset(500);
        Assert.Equal(500UL, log.NewestSequence);
        Assert.True(log.Covers(500));
        Assert.False(log.Covers(499));
        var cursor = log.OpenCursorAfter(500);
        log.Append(Opcode.Set, 501, 501, time: 0, Body(10));
        Assert.Equal([501UL], Drain(cursor).Select(f => f.Sequence));
    }
}

using System.Buffers;
using System.IO.Pipelines;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.UnitTests.Router;

public sealed class WriteBacklogTests
{
    [Fact]
    public void Replays_exactly_the_writes_after_a_sequence_as_node_frames()
    {
        var backlog = new WriteBacklog(1024 * 1024);
        for (ulong s = 1; s <= 10; s++)
            Append(backlog, s, $"k{s}");

        Assert.True(backlog.Covers(0));
        Assert.True(backlog.Covers(7));
        var frames = Replay(backlog, after: 7);
        Assert.Equal([8UL, 9UL, 10UL], frames.Select(f => f.Sequence));
        Assert.All(frames, f => Assert.Equal(FrameFlags.NoReply, f.Header.Flags));
        Assert.Equal(Opcode.Set, frames[0].Header.Opcode);
    }

    [Fact]
    public void Evicts_the_oldest_writes_past_its_capacity_and_stops_covering_them()
    {
        var backlog = new WriteBacklog(32 * 1024); // 4 KiB chunks
        for (ulong s = 1; s <= 2000; s++)
            Append(backlog, s, new string('x', 40));
        Assert.True(backlog.Bytes <= 32 * 1024 + 4096);
        Assert.True(backlog.OldestSequence > 1);
        Assert.False(backlog.Covers(0));
        Assert.True(backlog.Covers(backlog.OldestSequence - 1));
        Assert.Equal(2000UL, backlog.NewestSequence);
        Assert.Equal((int)(2000 - backlog.OldestSequence + 1), Replay(backlog, backlog.OldestSequence - 1).Count);
    }

    private static void Append(WriteBacklog backlog, ulong sequence, string key)
    {
        var writer = new ArrayBufferWriter<byte>();
        FrameWriter.WriteWithTwoFields(writer, Opcode.Set, FrameFlags.None, 99, System.Text.Encoding.UTF8.GetBytes(key), "v"u8);
        var frame = new ReadOnlySequence<byte>(writer.WrittenMemory);
        backlog.Append(FrameHeader.Read(writer.WrittenSpan), frame, sequence);
    }

    private static List<(FrameHeader Header, ulong Sequence)> Replay(WriteBacklog backlog, ulong after)
    {
        var pipe = new Pipe();
        var output = new OutputChannel(pipe.Writer);
        backlog.ReplayAfter(after, output);
        output.Flush();
        pipe.Writer.Complete();
        pipe.Reader.TryRead(out var result);
        var buffer = result.Buffer;
        var frames = new List<(FrameHeader, ulong)>();
        while (FrameReader.TryRead(ref buffer, 1 << 20, out var header, out var frame) == FrameReadStatus.Complete)
        {
            var bytes = frame.ToArray();
            frames.Add((header, BitConverter.ToUInt64(bytes, ProtocolLimits.HeaderSize)));
        }
        return frames;
    }
}

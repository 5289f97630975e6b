using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.UnitTests;

public sealed class FrameReaderTests
{
    [Fact]
    public void Reads_a_frame_split_across_segments()
    {
        var bytes = EncodeSet("key", "value", requestId: 42);
        for (var split = 1; split < bytes.Length; split++)
        {
            var buffer = Segments.Create(bytes.AsMemory(..split), bytes.AsMemory(split..));
            Assert.Equal(FrameReadStatus.Complete, FrameReader.TryRead(ref buffer, 1024, out var header, out var frame));
            Assert.Equal(Opcode.Set, header.Opcode);
            Assert.Equal(42UL, header.RequestId);
            Assert.Equal(bytes.Length, frame.Length);
            Assert.Equal(0, buffer.Length);
        }
    }

    [Fact]
    public void Truncated_frame_needs_more_data_at_every_length()
    {
        var bytes = EncodeSet("key", "value", requestId: 1);
        for (var length = 0; length < bytes.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(bytes, 0, length);
            Assert.Equal(FrameReadStatus.NeedMoreData, FrameReader.TryRead(ref buffer, 1024, out _, out _));
            Assert.Equal(length, buffer.Length);
        }
    }

    [Fact]
    public void Oversized_length_is_refused_from_the_header_alone()
    {
        var header = new byte[ProtocolLimits.HeaderSize];
        new FrameHeader(int.MaxValue, Opcode.Set, FrameFlags.None, StatusCode.Ok, 7).Write(header);
        var buffer = new ReadOnlySequence<byte>(header);
        Assert.Equal(FrameReadStatus.TooLarge, FrameReader.TryRead(ref buffer, 1024, out var parsed, out _));
        Assert.Equal(int.MaxValue, parsed.BodyLength);

        header.AsSpan(0, 4).Fill(0xFF); // 4 GiB - 1: above int range
        buffer = new ReadOnlySequence<byte>(header);
        Assert.Equal(FrameReadStatus.TooLarge, FrameReader.TryRead(ref buffer, int.MaxValue, out _, out _));
    }

    [Fact]
    public void Reads_pipelined_frames_one_after_another()
    {
        var bytes = EncodeSet("a", "1", 1).Concat(EncodeSet("b", "2", 2)).Concat(EncodeSet("c", "3", 3)).ToArray();
        var buffer = new ReadOnlySequence<byte>(bytes);
        var ids = new List<ulong>();
        while (FrameReader.TryRead(ref buffer, 1024, out var header, out _) == FrameReadStatus.Complete)
            ids.Add(header.RequestId);
        Assert.Equal([1UL, 2UL, 3UL], ids);
    }

    internal static byte[] EncodeSet(string key, string value, ulong requestId)
    {
        var writer = new ArrayBufferWriter<byte>();
        FrameWriter.WriteWithTwoFields(writer, Opcode.Set, FrameFlags.None, requestId,
            System.Text.Encoding.UTF8.GetBytes(key), System.Text.Encoding.UTF8.GetBytes(value));
        return writer.WrittenSpan.ToArray();
    }
}

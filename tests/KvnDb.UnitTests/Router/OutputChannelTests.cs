using System.Buffers;
using System.IO.Pipelines;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.UnitTests.Router;

public sealed class OutputChannelTests
{
    [Fact]
    public async Task A_forwarded_frame_keeps_its_bytes_with_the_new_request_id()
    {
        var pipe = new Pipe();
        var channel = new OutputChannel(pipe.Writer);
        var frame = new byte[ProtocolLimits.HeaderSize + 3];
        new FrameHeader(3, Opcode.Get, FrameFlags.Response, StatusCode.Ok, 1).Write(frame);
        frame.AsSpan()[^3..].Fill(9);
        Assert.True(channel.TryForward(new ReadOnlySequence<byte>(frame), requestId: 77));
        channel.Flush();
        var read = await pipe.Reader.ReadAsync();
        var bytes = read.Buffer.ToArray();
        Assert.Equal(77UL, FrameHeader.Read(bytes).RequestId);
        Assert.Equal(frame[..8], bytes[..8]);
        Assert.Equal([9, 9, 9], bytes[^3..]);
    }

    [Fact]
    public void A_client_that_leaves_its_output_unread_past_the_limit_is_cut_off()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512));
        var cut = 0;
        var channel = new OutputChannel(pipe.Writer, () => cut++);
        for (var i = 0; i < 200 && !channel.IsClosed; i++)
        {
            channel.WriteError(Opcode.Get, (ulong)i, StatusCode.NotFound, "not found, padded to take some room in the pipe");
            channel.Flush();
        }
        Assert.True(channel.IsClosed);
        Assert.Equal(1, cut);
        channel.WriteStatus(Opcode.Ping, 1, StatusCode.Ok); // after closing: dropped, no throw
    }

    [Fact]
    public async Task The_flush_left_pending_by_a_cut_off_client_ends_with_its_connection_and_never_faults()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512));
        var channel = new OutputChannel(pipe.Writer);
        for (var i = 0; i < 200 && !channel.IsClosed; i++)
        {
            channel.WriteError(Opcode.Get, (ulong)i, StatusCode.NotFound, "not found, padded to take some room in the pipe");
            channel.Flush();
        }
        Assert.True(channel.IsClosed);
        Assert.False(channel.AbandonedFlush.IsCompleted);
        // The connection dies: the pending flush faults, and the channel observes it.
        await pipe.Reader.CompleteAsync(new IOException("connection reset by peer"));
        await channel.AbandonedFlush.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(channel.AbandonedFlush.IsCompletedSuccessfully);
    }
}

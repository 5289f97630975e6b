using System.Buffers;
using System.IO.Pipelines;
using KvnDb.Protocol;
using KvnDb.Router;

namespace KvnDb.UnitTests.Router;

public sealed class OutputChannelTests
{
    private const string Padding = "not found, padded to take some room in the pipe";

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
    public void A_client_that_leaves_its_output_unread_is_backed_up_first_and_cut_off_past_the_hold_limit()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512));
        var cut = 0;
        var stats = new RouterStats();
        var channel = new OutputChannel(pipe.Writer, () => cut++, holdLimit: 4096, stats);
        var i = 0;
        for (; i < 200 && !channel.IsBackedUp; i++)
        {
            channel.WriteError(Opcode.Get, (ulong)i, StatusCode.NotFound, Padding);
            channel.Flush();
        }
        Assert.True(channel.IsBackedUp);
        Assert.False(channel.IsClosed);
        Assert.False(channel.WhenDrained.IsCompleted);
        Assert.Equal(1, stats.OutputsBackedUp);
        for (; i < 400 && !channel.IsClosed; i++)
        {
            channel.WriteError(Opcode.Get, (ulong)i, StatusCode.NotFound, Padding);
            channel.Flush();
        }
        Assert.True(channel.IsClosed);
        Assert.Equal(1, cut);
        Assert.Equal(1, stats.OutputLimitCuts);
        Assert.Equal(0, stats.OutputsBackedUp);
        Assert.True(channel.WhenDrained.IsCompleted); // a session waiting for the drain wakes and ends
        channel.WriteStatus(Opcode.Ping, 1, StatusCode.Ok); // after closing: dropped, no throw
    }

    [Fact]
    public async Task Replies_written_while_the_client_drains_follow_in_order_once_it_has()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512));
        var channel = new OutputChannel(pipe.Writer);
        const int frames = 100;
        for (var i = 0; i < frames; i++)
        {
            channel.WriteError(Opcode.Get, (ulong)i, StatusCode.NotFound, Padding);
            channel.Flush();
        }
        Assert.True(channel.IsBackedUp);
        Assert.True(channel.HeldBytes > 0);
        var drained = channel.WhenDrained;

        // The client reads everything: every frame arrives once, in the order written.
        var next = 0UL;
        while (next < frames)
        {
            var read = await pipe.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
            var buffer = read.Buffer;
            while (FrameReader.TryRead(ref buffer, int.MaxValue, out var header, out _) == FrameReadStatus.Complete)
                Assert.Equal(next++, header.RequestId);
            pipe.Reader.AdvanceTo(buffer.Start, buffer.End);
        }
        await drained.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(channel.IsBackedUp);
        Assert.Equal(0, channel.HeldBytes);
        Assert.False(channel.IsClosed);
    }

    [Fact]
    public async Task The_flush_left_pending_by_a_client_that_leaves_ends_with_its_connection_and_never_faults()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1024, resumeWriterThreshold: 512));
        var channel = new OutputChannel(pipe.Writer);
        for (var i = 0; i < 200 && !channel.IsBackedUp; i++)
        {
            channel.WriteError(Opcode.Get, (ulong)i, StatusCode.NotFound, Padding);
            channel.Flush();
        }
        Assert.True(channel.IsBackedUp);
        Assert.False(channel.PendingFlush.IsCompleted);
        // The connection dies: the pending flush faults, and the channel observes it.
        await pipe.Reader.CompleteAsync(new IOException("connection reset by peer"));
        await channel.PendingFlush.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(channel.PendingFlush.IsCompletedSuccessfully);
        Assert.True(channel.IsClosed);
        Assert.True(channel.WhenDrained.IsCompleted);
    }
}

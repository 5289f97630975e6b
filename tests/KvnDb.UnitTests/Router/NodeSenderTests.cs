using System.Buffers;
using System.IO.Pipelines;
using KvnDb.Protocol;
using KvnDb.Router.Replication;

namespace KvnDb.UnitTests.Router;

public sealed class NodeSenderTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static async Task<List<FrameHeader>> ReadFramesAsync(PipeReader reader, int count)
    {
        var frames = new List<FrameHeader>();
        while (frames.Count < count)
        {
            var result = await reader.ReadAsync().AsTask().WaitAsync(Timeout);
            var buffer = result.Buffer;
            while (FrameReader.TryRead(ref buffer, int.MaxValue, out var header, out _) == FrameReadStatus.Complete)
                frames.Add(header);
            reader.AdvanceTo(buffer.Start, buffer.End);
        }
        return frames;
    }

    [Fact]
    public async Task A_read_never_overtakes_a_write_appended_before_it()
    {
        var pipe = new Pipe();
        var log = new ReplicationLog(64 * 1024);
        var sender = new NodeSender(pipe.Writer, log.OpenCursorAtEnd(), log);
        log.Append(Opcode.Set, requestId: 1, sequence: 1, time: 0, new ReadOnlySequence<byte>(new byte[8]));
        var read = new byte[ProtocolLimits.HeaderSize];
        new FrameHeader(0, Opcode.Get, FrameFlags.None, StatusCode.Ok, 0).Write(read);
        Assert.True(sender.TrySendRead(read, requestId: 42));
        sender.Flush();
        var frames = await ReadFramesAsync(pipe.Reader, 2);
        Assert.Equal([Opcode.Set, Opcode.Get], frames.Select(f => f.Opcode));
        Assert.Equal(42UL, frames[1].RequestId);
    }

    [Fact]
    public async Task A_back_pressured_link_keeps_writes_in_the_log_and_sends_them_once_drained()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 4096, resumeWriterThreshold: 1024));
        var log = new ReplicationLog(1024 * 1024);
        var sender = new NodeSender(pipe.Writer, log.OpenCursorAtEnd(), log);
        for (ulong s = 1; s <= 100; s++)
        {
            log.Append(Opcode.Set, s, s, time: 0, new ReadOnlySequence<byte>(new byte[200]));
            sender.Flush();
        }
        Assert.True(sender.IsBackPressured);
        Assert.False(sender.IsClosed); // never cut for unread output
        Assert.True(sender.UnsentBytes > 0);
        var frames = await ReadFramesAsync(pipe.Reader, 100);
        Assert.Equal([.. Enumerable.Range(1, 100).Select(i => (ulong)i)], frames.Select(f => f.RequestId));
        Assert.Equal(0, sender.UnsentBytes);
    }

    [Fact]
    public async Task Reads_sent_while_the_link_is_back_pressured_wait_and_follow_the_writes_before_them_in_order()
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 4096, resumeWriterThreshold: 1024));
        var log = new ReplicationLog(1024 * 1024);
        var sender = new NodeSender(pipe.Writer, log.OpenCursorAtEnd(), log);
        var read = new byte[ProtocolLimits.HeaderSize];
        new FrameHeader(0, Opcode.Get, FrameFlags.None, StatusCode.Ok, 0).Write(read);
        var expected = new List<(Opcode, ulong)>();
        for (ulong s = 1; s <= 60; s++)
        {
            log.Append(Opcode.Set, s, s, time: 0, new ReadOnlySequence<byte>(new byte[200]));
            expected.Add((Opcode.Set, s));
            // While a flush is in flight the transport's writer is not touched: the read waits, after the log before it.
            Assert.True(sender.TrySendRead(read, requestId: 1000 + s));
            expected.Add((Opcode.Get, 1000 + s));
            sender.Flush();
        }
        Assert.True(sender.IsBackPressured);
        var frames = await ReadFramesAsync(pipe.Reader, expected.Count);
        Assert.Equal(expected, frames.Select(f => (f.Opcode, f.RequestId)));
    }

    [Fact]
    public async Task The_caught_up_signal_fires_once_the_whole_log_was_sent()
    {
        var pipe = new Pipe();
        var log = new ReplicationLog(64 * 1024);
        var cursor = log.OpenCursorAtEnd();
        for (ulong s = 1; s <= 10; s++)
            log.Append(Opcode.Set, s, s, time: 0, new ReadOnlySequence<byte>(new byte[8]));
        var sender = new NodeSender(pipe.Writer, cursor, log);
        var caughtUp = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        sender.WhenCaughtUp(() => caughtUp.SetResult(sender.SentSequence));
        Assert.Equal(10UL, await caughtUp.Task.WaitAsync(Timeout));
    }

    [Fact]
    public void A_closed_sender_refuses_frames_and_releases_its_place_in_the_log()
    {
        var pipe = new Pipe();
        var log = new ReplicationLog(8 * 1024);
        var sender = new NodeSender(pipe.Writer, log.OpenCursorAtEnd(), log);
        sender.Close();
        Assert.False(sender.TrySendRead(new byte[ProtocolLimits.HeaderSize], 1));
        for (ulong s = 1; s <= 200; s++)
            log.Append(Opcode.Set, s, s, time: 0, new ReadOnlySequence<byte>(new byte[100]));
        Assert.False(log.Covers(0)); // nothing pinned the old segments
    }
}

using System.Buffers;
using KvnDb.Protocol;

namespace KvnDb.IntegrationTests;

/// <summary>
/// A node played by hand over a raw socket: it says a node hello, then behaves like a node on every frame of the
/// join (acknowledges snapshot chunks, SyncEnd and writes, answers pings) except where the test hands it a
/// <see cref="ReadReply"/> or sends something itself (<see cref="SendAsync"/>): what a hostile or broken node would.
/// </summary>
internal sealed class HostileNode : IAsyncDisposable
{
    private readonly RawConnection _raw;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly TaskCompletionSource<ReceivedFrame> _syncBegin = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<ReceivedFrame> _closing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _loop;

    private HostileNode(RawConnection raw, Func<ReceivedFrame, Action<IBufferWriter<byte>>?>? readReply, bool joins)
    {
        _raw = raw;
        ReadReply = readReply;
        Joins = joins;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>What to answer a read with (a writer of the whole reply frame); null: an honest NotFound.</summary>
    public Func<ReceivedFrame, Action<IBufferWriter<byte>>?>? ReadReply { get; set; }

    /// <summary>What to answer a sequenced write with (a writer of the whole reply frame); null: an honest Ok.</summary>
    public Func<ReceivedFrame, Action<IBufferWriter<byte>>?>? WriteReply { get; set; }

    /// <summary>What to answer a digest with; null: an honest digest of an empty store.</summary>
    public Func<ReceivedFrame, Action<IBufferWriter<byte>>?>? DigestReply { get; set; }

    /// <summary>Completes with the router's SyncBegin: the node has joined (syncing).</summary>
    public Task<ReceivedFrame> SyncBegun => _syncBegin.Task;

    /// <summary>Completes with the router's Closing notice, if one comes.</summary>
    public Task<ReceivedFrame> Closing => _closing.Task;

    /// <summary>Completes when the router closed the connection.</summary>
    public Task Closed => _loop;

    /// <summary>Whether it acknowledges snapshot chunks and SyncEnd (false: it stays syncing).</summary>
    public bool Joins { get; }

    /// <summary>
    /// Awaited before each snapshot chunk is acknowledged, with nothing read and no ping answered meanwhile: a node on
    /// a slow engine or a loaded disk is silent like this while it applies one. Null: acknowledge at once.
    /// </summary>
    public Func<Task>? BeforeSnapshotAck { get; set; }

    /// <summary>Reads the router sent this node.</summary>
    public int ReadsSeen;

    /// <summary>
    /// Says hello as a node claiming <paramref name="history"/> at sequence 0. The default (none) is a prefix of every
    /// history, so the router may let it catch up by replay; a history the router never saw forces a full sync.
    /// </summary>
    public static async Task<HostileNode> ConnectAsync(int port, string password = "", Func<ReceivedFrame, Action<IBufferWriter<byte>>?>? readReply = null, bool joins = true,
        Guid history = default)
    {
        var raw = await RawConnection.ConnectAsync(port);
        await raw.SendAsync(w => new HelloRequest(ProtocolLimits.Version, ConnectionRole.Node, password, 0, history, Guid.NewGuid(), NodeHelloFlags.None, ulong.MaxValue).Write(w, 1));
        var reply = await raw.ReadRawFrameAsync() ?? throw new InvalidOperationException("the router closed the link at hello");
        Assert.Equal(StatusCode.Ok, reply.Header.Status);
        return new HostileNode(raw, readReply, joins);
    }

    public async Task SendAsync(Action<IBufferWriter<byte>> write)
    {
        await _sendLock.WaitAsync();
        try
        {
            await _raw.SendAsync(write);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    private async Task RunAsync()
    {
        try
        {
            await ServeAsync();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or System.Net.Sockets.SocketException or InvalidOperationException)
        {
            // The test closed the connection.
        }
    }

    private async Task ServeAsync()
    {
        while (await _raw.ReadRawFrameAsync(Timeout.InfiniteTimeSpan) is { } frame)
        {
            var header = frame.Header;
            switch (header.Opcode)
            {
                case Opcode.Ping when !header.IsResponse:
                    await SendAsync(w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, Opcode.Ping, FrameFlags.Response, StatusCode.Ok, header.RequestId)));
                    break;
                case Opcode.SyncBegin:
                    _syncBegin.TrySetResult(frame);
                    break;
                case Opcode.SyncEnd or Opcode.SnapshotApply when Joins:
                    if (header.Opcode == Opcode.SnapshotApply && BeforeSnapshotAck is { } applying)
                        await applying();
                    await SendAsync(w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, header.Opcode, FrameFlags.Response, StatusCode.Ok, header.RequestId)));
                    break;
                case Opcode.Closing:
                    _closing.TrySetResult(frame);
                    break;
                case Opcode.TimeMark when (header.RequestId & SyncMessages.ControlIdBit) != 0:
                    await SendAsync(w => FrameWriter.WriteRaw(w, Opcode.TimeMark, FrameFlags.Response, StatusCode.Ok, header.RequestId, new byte[TimeMarkReply.Size]));
                    break;
                case var write when write.IsSequencedWrite():
                    await SendAsync(WriteReply?.Invoke(frame)
                        ?? (w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, header.Opcode, FrameFlags.Response, StatusCode.Ok, header.RequestId))));
                    break;
                case Opcode.Digest:
                    await SendAsync(DigestReply?.Invoke(frame)
                        ?? (w => FrameWriter.WriteRaw(w, Opcode.Digest, FrameFlags.Response, StatusCode.Ok, header.RequestId, new byte[NodeDigest.Size])));
                    break;
                case var read when read.IsRead():
                    Interlocked.Increment(ref ReadsSeen);
                    var reply = ReadReply?.Invoke(frame)
                        ?? (w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, header.Opcode, FrameFlags.Response, StatusCode.NotFound, header.RequestId)));
                    await SendAsync(reply);
                    break;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _raw.Dispose();
        await _loop.WaitAsync(TestCluster.Timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _sendLock.Dispose();
    }
}

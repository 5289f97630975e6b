using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using KvnDb.Protocol;

namespace KvnDb.IntegrationTests;

/// <summary>
/// A listener that plays the router by hand, for behaviour a real router never shows on cue: answering
/// the hello and then staying silent, answering pings but no request, pinging its peer.
/// </summary>
internal sealed class FakeRouter : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Channel<FakePeer> _accepted = Channel.CreateUnbounded<FakePeer>();
    private readonly List<FakePeer> _peers = [];
    private readonly Task _acceptLoop;

    public FakeRouter()
    {
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Connections accepted so far.</summary>
    public int Accepted { get; private set; }

    public async Task<FakePeer> NextPeerAsync() => await _accepted.Reader.ReadAsync().AsTask().WaitAsync(TestCluster.Timeout);

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync();
                var peer = new FakePeer(socket);
                lock (_peers)
                    _peers.Add(peer);
                Accepted++;
                _accepted.Writer.TryWrite(peer);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // stopped
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        await _acceptLoop;
        FakePeer[] peers;
        lock (_peers)
            peers = [.. _peers];
        foreach (var peer in peers)
            await peer.DisposeAsync();
    }
}

/// <summary>One accepted connection of a <see cref="FakeRouter"/>.</summary>
internal sealed class FakePeer(Socket socket) : IAsyncDisposable
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly List<byte> _received = [];
    private readonly Channel<FrameHeader> _frames = Channel.CreateUnbounded<FrameHeader>();
    private Task _serve = Task.CompletedTask;

    /// <summary>
    /// The next frame with its body, or null when the peer closed. A node's storage reports (NodeStatus, sent
    /// unasked after the hello and about once a second) are skipped: these tests play a router that ignores them.
    /// </summary>
    public async Task<(FrameHeader Header, byte[] Body)?> ReadFrameAsync()
    {
        while (true)
        {
            if (_received.Count >= ProtocolLimits.HeaderSize)
            {
                var header = FrameHeader.Read(_received.ToArray());
                if (_received.Count >= header.FrameLength)
                {
                    var body = _received.GetRange(ProtocolLimits.HeaderSize, header.BodyLength).ToArray();
                    _received.RemoveRange(0, header.FrameLength);
                    if (header.Opcode == Opcode.NodeStatus)
                        continue;
                    return (header, body);
                }
            }
            int read;
            try
            {
                read = await socket.ReceiveAsync(_buffer.AsMemory()).AsTask().WaitAsync(TestCluster.Timeout);
            }
            catch (SocketException)
            {
                return null;
            }
            if (read == 0)
                return null;
            _received.AddRange(_buffer.AsSpan(0, read).ToArray());
        }
    }

    public async Task SendAsync(Action<IBufferWriter<byte>> write)
    {
        var writer = new ArrayBufferWriter<byte>();
        write(writer);
        await socket.SendAsync(writer.WrittenMemory).AsTask().WaitAsync(TestCluster.Timeout);
    }

    /// <summary>Reads the hello, answers it Ok (announcing <paramref name="limits"/> when given), and returns its body.</summary>
    public async Task<byte[]> AnswerHelloAsync(HelloLimits? limits = null)
    {
        var hello = await ReadFrameAsync() ?? throw new InvalidOperationException("closed before the hello");
        Assert.Equal(Opcode.Hello, hello.Header.Opcode);
        await SendAsync(w => new HelloResponse(ProtocolLimits.Version, 42, ProtocolLimits.DefaultMaxFrameSize, ProtocolLimits.DefaultMaxKeySize, limits).Write(w, hello.Header.RequestId));
        return hello.Body;
    }

    /// <summary>Reads the hello and answers it as a standby of a router group does (NotLeader, naming <paramref name="leader"/>: empty while it knows none).</summary>
    public async Task AnswerHelloAsStandbyAsync(string leader = "")
    {
        var hello = await ReadFrameAsync() ?? throw new InvalidOperationException("closed before the hello");
        Assert.Equal(Opcode.Hello, hello.Header.Opcode);
        await SendAsync(w => ErrorReply.Write(w, Opcode.Hello, hello.Header.RequestId, StatusCode.NotLeader, leader));
        socket.Shutdown(SocketShutdown.Both);
    }

    /// <summary>Answers the hello as a version 2 router does (it read the version from the first two bytes) and closes.</summary>
    public async Task RefuseAsVersion2RouterAsync()
    {
        var hello = await ReadFrameAsync() ?? throw new InvalidOperationException("closed before the hello");
        Assert.True(HelloRequest.TryReadVersion(hello.Body, out var version));
        await SendAsync(w => ErrorReply.Write(w, Opcode.Hello, hello.Header.RequestId, StatusCode.VersionMismatch,
            $"protocol version mismatch: router speaks 2, peer sent {version}"));
        socket.Shutdown(SocketShutdown.Both);
    }

    /// <summary>From now on, reads every frame in the background (answering pings when told) and queues its header.</summary>
    public void Serve(bool answerPings) => _serve = ServeAsync(answerPings);

    /// <summary>The next frame the background reader saw; null once the peer closed.</summary>
    public async Task<FrameHeader?> NextFrameAsync()
    {
        try
        {
            return await _frames.Reader.ReadAsync().AsTask().WaitAsync(TestCluster.Timeout);
        }
        catch (ChannelClosedException)
        {
            return null;
        }
    }

    private async Task ServeAsync(bool answerPings)
    {
        try
        {
            while (await ReadFrameAsync() is { } frame)
            {
                if (answerPings && frame.Header.Opcode == Opcode.Ping && !frame.Header.IsResponse)
                    await SendAsync(w => FrameWriter.WriteHeaderOnly(w, new FrameHeader(0, Opcode.Ping, FrameFlags.Response, StatusCode.Ok, frame.Header.RequestId)));
                _frames.Writer.TryWrite(frame.Header);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or TimeoutException)
        {
            // the peer went away, or the test ended
        }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }

    /// <summary>True once the peer closed this connection (reads return 0 or fail).</summary>
    public async Task<bool> ClosedByPeerAsync()
    {
        while (await NextFrameAsync() is not null)
        {
        }
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        socket.Dispose();
        // The reader ends with the socket; how it ended (or that it took too long) no longer matters.
        await _serve.WaitAsync(TestCluster.Timeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
    }
}

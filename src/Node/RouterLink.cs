using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Protocol.Tls;
using KvnDb.Transport;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node;

/// <summary>
/// One connection from the node to the router: connect (bounded by the connect timeout), hello, then
/// <see cref="FrameLoop"/> applies every complete frame of a read, waits for durability once per batch
/// (group commit) and flushes once. A <see cref="LinkWatchdog"/> closes the link when the router stays
/// silent past the router timeout; TCP keepalive and <c>TCP_USER_TIMEOUT</c> sit under it.
/// </summary>
internal sealed partial class RouterLink : IAsyncDisposable
{
    private readonly Socket? _socket; // the .NET sockets engine (and TLS)
    private readonly Stream? _stream;
    private readonly EpollSocket? _epoll; // or the epoll engine
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly NodeOptions _options;
    private readonly IStorageEngine _engine;
    private readonly NodeStore _store;
    private readonly NodeIdentity _identity;
    private readonly LinkWatchdog _watchdog;
    private RequestProcessor? _requests; // created once the hello reply gave the router's limits
    private readonly KeyListings _listings;
    private readonly ILogger _logger;
    private ulong _pings;
    private int _tooLargeBody;
    private string? _leaving;
    private string? _closedByRouter;
    private int _statusVersion = -1;
    private long _statusSentAt;

    /// <summary>How often the node tells the router its storage status when nothing changed (free space moves).</summary>
    private static readonly TimeSpan StatusInterval = TimeSpan.FromSeconds(1);

    private RouterLink(Socket socket, Stream stream, NodeOptions options, NodeStore store, NodeIdentity identity, ILogger logger)
        : this(PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true)), PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true)), options, store, identity, logger)
    {
        _socket = socket;
        _stream = stream;
    }

    private RouterLink(EpollSocket epoll, NodeOptions options, NodeStore store, NodeIdentity identity, ILogger logger)
        : this(epoll.Input, epoll.Output, options, store, identity, logger)
    {
        _epoll = epoll;
    }

    private RouterLink(PipeReader input, PipeWriter output, NodeOptions options, NodeStore store, NodeIdentity identity, ILogger logger)
    {
        _input = input;
        _output = output;
        _options = options;
        _store = store;
        _engine = store.Engine;
        _identity = identity;
        _watchdog = new LinkWatchdog(options.RouterTimeout, _input.CancelPendingRead, HasUnreadBytes);
        // A chunk ready while the loop waits for the router wakes it (it moves the chunk to the output, then reads on).
        _listings = new KeyListings(store.Engine, store, options.KeysPerChunk, _input.CancelPendingRead);
        _logger = logger;
    }

    /// <summary>The socket engine the link runs on (epoll unless TLS, the platform or the router's frame limit say otherwise).</summary>
    public IoEngine Engine => _epoll is null ? IoEngine.Sockets : IoEngine.Epoll;

    /// <summary>The id the router gave this link (its node id in router logs and info).</summary>
    public ulong ConnectionId { get; private set; }

    /// <summary>
    /// The router's frame limit, adopted at hello: the node accepts every frame the router may forward
    /// (a write at the router's limit plus its sequence, a snapshot chunk) and sizes its own chunks by it.
    /// </summary>
    public int MaxFrameSize { get; private set; }

    /// <summary>The router's key limit, adopted at hello: a key the router accepted is one the node accepts.</summary>
    public int MaxKeySize { get; private set; }

    /// <summary>The link ended because a write (or sync frame) could not be applied: rejoining at once would likely fail again.</summary>
    public bool FailedApply => _requests?.Failure is not null;

    /// <summary>
    /// Input the epoll engine buffers before it stops reading the socket (its back-pressure on the router): the largest
    /// frame must fit, so it is sized by the node's limit and a router announcing more is served on .NET's sockets.
    /// </summary>
    private static long EpollInputCapacity(NodeOptions options) => (long)Math.Max(options.MaxFrameSize, options.FrameCeiling ?? 0) + 64 * 1024;

    /// <summary>Unsent replies past this hold the serve loop's flush (the router reads them as fast as it can).</summary>
    private const long EpollOutputPause = 1024 * 1024;

    public static async Task<RouterLink> ConnectAsync(NodeOptions options, NodeStore store, NodeIdentity identity, ILogger logger, CancellationToken cancellationToken)
    {
        var onEpoll = options.IoEngine == IoEngine.Epoll && options.Tls is null && EpollNative.IsSupported;
        var link = onEpoll
            ? await OpenEpollAsync(options, store, identity, logger, cancellationToken).ConfigureAwait(false)
            : await OpenSocketsAsync(options, store, identity, logger, cancellationToken).ConfigureAwait(false);
        HelloResponse accepted;
        try
        {
            accepted = await link.HelloAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await link.DisposeAsync().ConfigureAwait(false);
            throw;
        }
        if (onEpoll && accepted.MaxFrameSize + (long)ProtocolLimits.HeaderSize > EpollInputCapacity(options))
        {
            // The router's frames would not fit the epoll link's input pipe: the link is made again on .NET's sockets.
            await link.DisposeAsync().ConfigureAwait(false);
            LogFramesTooLargeForEpoll(logger, accepted.MaxFrameSize, EpollInputCapacity(options));
            return await ConnectAsync(options with { IoEngine = IoEngine.Sockets }, store, identity, logger, cancellationToken).ConfigureAwait(false);
        }
        link.ConnectionId = accepted.ConnectionId;
        link.MaxFrameSize = accepted.MaxFrameSize;
        link.MaxKeySize = accepted.MaxKeySize;
        link._requests = new RequestProcessor(store, identity, accepted.MaxKeySize, accepted.MaxFrameSize, logger);
        return link;
    }

    /// <summary>The hello exchange (bounded by the handshake timeout) and its checks: limits, and the router's term (fencing).</summary>
    private async Task<HelloResponse> HelloAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.HandshakeTimeout);
        try
        {
            var accepted = await RouterHandshake.RunAsync(_input, _output, Hello(), _options.MaxFrameSize, timeout.Token).ConfigureAwait(false);
            RouterHandshake.CheckLimits(accepted, _options);
            RouterHandshake.CheckTerm(accepted, _identity, $"{_options.RouterHost}:{_options.RouterPort}");
            return accepted;
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the router did not answer the hello within {_options.HandshakeTimeout.TotalSeconds:0.###} s", ex);
        }
    }

    /// <summary>Connects on .NET's sockets (bounded by the connect timeout), with TLS when asked.</summary>
    private static async Task<RouterLink> OpenSocketsAsync(NodeOptions options, NodeStore store, NodeIdentity identity, ILogger logger, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? stream = null;
        try
        {
            TcpLiveness.Apply(socket, options.RouterTimeout);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.ConnectTimeout);
            try
            {
                await socket.ConnectAsync(options.RouterHost, options.RouterPort, timeout.Token).ConfigureAwait(false);
                stream = new NetworkStream(socket, ownsSocket: true);
                if (options.Tls is { } tls)
                    stream = await TlsConnector.AuthenticateAsync(stream, options.RouterHost, tls, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw ConnectTimedOut(options, ex);
            }
        }
        catch
        {
            if (stream is not null)
                await stream.DisposeAsync().ConfigureAwait(false);
            socket.Dispose();
            throw;
        }
        return new RouterLink(socket, stream, options, store, identity, logger);
    }

    /// <summary>Connects on the process's epoll loop (<see cref="LinkLoop"/>), trying each address of the router's host in turn.</summary>
    private static async Task<RouterLink> OpenEpollAsync(NodeOptions options, NodeStore store, NodeIdentity identity, ILogger logger, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        try
        {
            var epoll = await EpollSocket.ConnectAsync(options.RouterHost, options.RouterPort, LinkLoop.Get(logger, options.BusyPoll),
                EpollInputCapacity(options), EpollOutputPause, socket => TcpLiveness.Apply(socket, options.RouterTimeout), timeout.Token).ConfigureAwait(false);
            return new RouterLink(epoll, options, store, identity, logger);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw ConnectTimedOut(options, ex);
        }
    }

    private static TimeoutException ConnectTimedOut(NodeOptions options, Exception inner) =>
        new($"connecting to {options.RouterHost}:{options.RouterPort} took longer than the connect timeout of {options.ConnectTimeout.TotalSeconds:0.###} s", inner);

    private RequestProcessor Processor => _requests ?? throw new InvalidOperationException("the link serves only after its hello");

    /// <summary>Bytes from the router wait in the kernel: whatever the clock says, it is not silent.</summary>
    private bool HasUnreadBytes()
    {
        try
        {
            return (_epoll?.Available ?? _socket!.Available) > 0;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            return false;
        }
    }

    /// <summary>What the node says about itself: who it is, what it holds, and whether that can be trusted.</summary>
    private HelloRequest Hello()
    {
        var flags = NodeHelloFlags.None;
        if (_engine.MayHaveLostWrites)
            flags |= NodeHelloFlags.MayHaveLostWrites;
        if (_options.Embedded)
            flags |= NodeHelloFlags.Embedded;
        if (_identity.IsResetPending)
            flags |= NodeHelloFlags.Reset;
        return new HelloRequest(ProtocolLimits.Version, ConnectionRole.Node, _options.Password, _engine.LastSequence, _identity.HistoryId, _identity.NodeId, flags,
            (ulong)Math.Max(1, _engine.MaxRecordSize), HelloRequest.CleanNodeName(_options.Name),
            // The default group goes unsaid: a router that predates groups reads the hello it always did.
            _options.Group == HelloRequest.DefaultGroup ? "" : _options.Group);
    }

    /// <summary>Serves the router until the link ends; returns why it ended cleanly, throws when it failed.</summary>
    public async Task<string> ServeAsync(CancellationToken cancellationToken)
    {
        // Reads end by CancelPendingRead (stop, or the watchdog); the handler's token stops flushes and durability waits.
        using var registration = cancellationToken.Register(static s => ((RouterLink)s!)._input.CancelPendingRead(), this);
        _watchdog.Start();
        SendStatusIfDue();
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        while (true)
        {
            if (_listings.Drain(_output))
                await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
            var exit = await FrameLoop.RunAsync(_input, new Frames(this, cancellationToken), MaxFrameSize, CancellationToken.None).ConfigureAwait(false);
            switch (exit)
            {
                case FrameLoopExit.Canceled when cancellationToken.IsCancellationRequested:
                    return "the node is stopping";
                case FrameLoopExit.Stopped when _closedByRouter is not null:
                    return _closedByRouter;
                case FrameLoopExit.Stopped:
                    return $"the node stopped serving: {_requests?.Failure}";
                case FrameLoopExit.Canceled when _leaving is not null:
                    return _leaving;
                case FrameLoopExit.Completed:
                    return "the router closed the link";
                case FrameLoopExit.Truncated:
                    return "the router closed the link in the middle of a frame";
                case FrameLoopExit.TooLarge:
                    throw new InvalidDataException($"the router sent a frame of {(uint)_tooLargeBody} bytes, above the limit of {MaxFrameSize} it announced");
                case FrameLoopExit.Canceled when _watchdog.IsExpired:
                    throw new TimeoutException($"the router sent nothing for {_watchdog.Silence.TotalSeconds:0.0} s (router timeout {_watchdog.Timeout.TotalSeconds:0.###} s)");
                case FrameLoopExit.Canceled when _watchdog.State == LinkWatchdog.WatchState.PingDue:
                    // Silent for a third of the timeout: ask. Its answer, like any frame, ends the silence.
                    FrameWriter.WriteHeaderOnly(_output, new FrameHeader(0, Opcode.Ping, FrameFlags.None, StatusCode.Ok, SyncMessages.ControlIdBit | ++_pings));
                    await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
                    _watchdog.PingSent();
                    break;
                default:
                    break; // a check that fired just as a frame arrived: read on
            }
        }
    }

    private FrameAction OnFrame(in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        _watchdog.Busy();
        if (header.Opcode == Opcode.ListKeys)
        {
            StartListing(header, frame);
            return FrameAction.Continue;
        }
        if (header.Opcode == Opcode.Closing)
        {
            // The router closes the link on purpose (it stops, or it dropped this node): a clean end, then the usual backoff.
            using var body = new ContiguousBytes(frame.Slice(ProtocolLimits.HeaderSize));
            _closedByRouter = $"the router closed the link ({header.Status}): {ClosingNotice.Read(body.Span)}";
            return FrameAction.Stop;
        }
        using var bytes = new ContiguousBytes(frame);
        Processor.Process(header, bytes.Span[ProtocolLimits.HeaderSize..], _output);
        // A failed request ends the service: the frames after it are never applied (the router settles them).
        return Processor.Failure is null ? FrameAction.Continue : FrameAction.Stop;
    }

    /// <summary>
    /// Group commit: one durability wait covers every write of the batch, then one flush sends all replies.
    /// Storage that stopped taking writes (a checkpoint it cannot write, a full disk) ends the link after the
    /// batch: the node leaves serving until <see cref="IStorageEngine.ProbeStorageAsync"/> says it is back.
    /// </summary>
    private async ValueTask CompleteBatchAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (Processor.TakeAppliedWrites() > 0)
                await _engine.FlushAsync(cancellationToken).ConfigureAwait(false);
            if (Processor.TakePendingHistory(out var history))
            {
                // A crash before this checkpoint must not leave a half-synced store claiming the history.
                await _engine.CheckpointAsync(cancellationToken).ConfigureAwait(false);
                _identity.SetHistory(history);
                _engine.ConfirmSynced();
                _identity.ConfirmSynced(); // a pending reset is done: the data is the donor's now
            }
        }
        catch (StorageUnavailableException ex)
        {
            // The batch's replies promise durability the disk did not give: they must never leave. Drop the link under them.
            LogDurabilityFailed(ex.Message);
            if (_epoll is not null)
                _epoll.Abort(new IOException("the link was dropped: its writes could not be made durable"));
            else
                _socket!.Dispose();
            throw;
        }
        SendStatusIfDue();
        _listings.Drain(_output);
        if (_output.UnflushedBytes > 0)
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (_requests?.Failure is null && _leaving is null && _engine.Health.Refusal is { } refusal)
        {
            _leaving = $"the storage refuses writes: {refusal}";
            _input.CancelPendingRead();
        }
        _watchdog.Waiting();
    }

    /// <summary>Tells the router the storage's status (shown in its info) when it changed, and once a second for the free space.</summary>
    private void SendStatusIfDue()
    {
        var health = _engine.Health;
        var version = health.Version;
        if (version == _statusVersion && _statusSentAt != 0 && System.Diagnostics.Stopwatch.GetElapsedTime(_statusSentAt) < StatusInterval)
            return;
        _statusVersion = version;
        _statusSentAt = System.Diagnostics.Stopwatch.GetTimestamp();
        (health.Report() with { KeyCount = (ulong)Math.Max(0, _engine.Count) }).Write(_output, SyncMessages.ControlIdBit);
    }

    /// <summary>A listing runs off the loop (<see cref="KeyListings"/>): the frames after it are applied meanwhile.</summary>
    private void StartListing(in FrameHeader request, in ReadOnlySequence<byte> frame)
    {
        var prefix = ReadPrefix(frame, out var now);
        if (prefix is null)
            ErrorReply.Write(_output, Opcode.ListKeys, request.RequestId, StatusCode.ProtocolError, "malformed ListKeys body");
        else if (!_listings.TryStart(request.RequestId, prefix, now))
            ErrorReply.Write(_output, Opcode.ListKeys, request.RequestId, StatusCode.Busy,
                $"this node already runs {KeyListings.MaxConcurrent} key listings for the router; try again when one ends");
    }

    private static byte[]? ReadPrefix(in ReadOnlySequence<byte> frame, out long now)
    {
        using var bytes = new ContiguousBytes(frame);
        return TimedRead.TryRead(bytes.Span[ProtocolLimits.HeaderSize..], out now, out var body) && KeyRequest.TryRead(body, out var prefix)
            ? prefix.ToArray()
            : null;
    }

    public async ValueTask DisposeAsync()
    {
        _watchdog.Dispose();
        await _listings.DisposeAsync().ConfigureAwait(false);
        try
        {
            await _output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException or OperationCanceledException)
        {
            // The router is gone; unsent replies die with the link, the router fails or retries them.
        }
        await _input.CompleteAsync().ConfigureAwait(false);
        if (_epoll is not null)
            await _epoll.DisposeAsync().ConfigureAwait(false);
        if (_stream is not null)
            await _stream.DisposeAsync().ConfigureAwait(false);
        _socket?.Dispose();
        _requests?.Dispose();
    }

    [LoggerMessage(12, LogLevel.Information, "The router's frame limit ({FrameLimit} bytes) is above what the epoll engine buffers for this node ({Capacity} bytes, from its --max-frame): the link runs on .NET's sockets")]
    private static partial void LogFramesTooLargeForEpoll(ILogger logger, int frameLimit, long capacity);

    [LoggerMessage(11, LogLevel.Error, "The writes of a batch could not be made durable ({Reason}): the link is dropped before their replies leave")]
    private partial void LogDurabilityFailed(string reason);

    /// <summary>The serve loop's handler: every frame applied in place, key listings streamed, one group commit per batch.</summary>
    private readonly struct Frames(RouterLink link, CancellationToken cancellationToken) : IFrameHandler
    {
        public FrameAction OnFrame(in FrameHeader header, in ReadOnlySequence<byte> frame) => link.OnFrame(header, frame);

        public ValueTask OnFrameAsync(FrameHeader header, ReadOnlySequence<byte> frame, CancellationToken _) => default;

        public ValueTask OnBatchEndAsync(CancellationToken _) => link.CompleteBatchAsync(cancellationToken);

        public ValueTask OnPausedAsync(CancellationToken _) => default;

        public void OnFrameTooLarge(in FrameHeader header) => link._tooLargeBody = header.BodyLength;
    }
}

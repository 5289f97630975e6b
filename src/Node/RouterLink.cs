using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using KvnDb.Node.Storage;
using KvnDb.Protocol;
using KvnDb.Protocol.Tls;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node;

/// <summary>
/// One connection from the node to the router: handshake, then a loop that applies every
/// complete frame of a read, waits for durability once per batch (group commit), and flushes once.
/// </summary>
internal sealed partial class RouterLink : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly NodeOptions _options;
    private readonly IStorageEngine _engine;
    private readonly NodeIdentity _identity;
    private readonly RequestProcessor _processor;
    private readonly ILogger _logger;

    private RouterLink(Socket socket, Stream stream, NodeOptions options, IStorageEngine engine, NodeIdentity identity, ILogger logger)
    {
        _socket = socket;
        _stream = stream;
        _input = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        _output = PipeWriter.Create(_stream, new StreamPipeWriterOptions(leaveOpen: true));
        _options = options;
        _engine = engine;
        _identity = identity;
        _processor = new RequestProcessor(engine, identity, options.MaxKeySize, options.MaxFrameSize, logger);
        _logger = logger;
    }

    /// <summary>The id the router gave this link (its node id in router logs and info).</summary>
    public ulong ConnectionId { get; private set; }

    public static async Task<RouterLink> ConnectAsync(NodeOptions options, IStorageEngine engine, NodeIdentity identity, ILogger logger, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(options.RouterHost, options.RouterPort, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        if (options.Tls is { } tls)
        {
            try
            {
                stream = await TlsConnector.AuthenticateAsync(stream, options.RouterHost, tls, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        var link = new RouterLink(socket, stream, options, engine, identity, logger);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.HandshakeTimeout);
            await link.HandshakeAsync(timeout.Token).ConfigureAwait(false);
            return link;
        }
        catch
        {
            await link.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        // Node identity and flags are placeholders until nodes persist an id (issue 11's node part).
        new HelloRequest(ProtocolLimits.Version, ConnectionRole.Node, _options.Password, _engine.LastSequence, _identity.HistoryId, Guid.Empty, NodeHelloFlags.None).Write(_output, 0);
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        var reply = await FrameLoop.ReadFrameAsync(_input, _options.MaxFrameSize, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidDataException("router closed the connection during the handshake");
        switch (reply.Header.Status)
        {
            case StatusCode.Ok:
                if (HelloResponse.TryRead(reply.Body, out var hello))
                    ConnectionId = hello.ConnectionId;
                return;
            case StatusCode.AuthFailed or StatusCode.VersionMismatch or StatusCode.NotAuthorized:
                throw new NodeFatalException($"router refused the node: {reply.Header.Status}: {ErrorReply.Read(reply.Body)}");
            default:
                throw new InvalidDataException($"router answered hello with {reply.Header.Status}: {ErrorReply.Read(reply.Body)}");
        }
    }

    public async Task ServeAsync(CancellationToken cancellationToken)
    {
        // Reads are ended by CancelPendingRead (a clean return); the handler's own token stops flushes and durability waits.
        using var registration = cancellationToken.Register(static s => ((RouterLink)s!)._input.CancelPendingRead(), this);
        if (!cancellationToken.IsCancellationRequested)
            await FrameLoop.RunAsync(_input, new Frames(this, cancellationToken), _options.MaxFrameSize, CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>The serve loop's handler: every frame applied in place, key listings streamed, one group commit per batch.</summary>
    private readonly struct Frames(RouterLink link, CancellationToken cancellationToken) : IFrameHandler
    {
        public FrameAction OnFrame(in FrameHeader header, in ReadOnlySequence<byte> frame)
        {
            // A listing streams many frames and flushes as it goes: the loop ends the batch first so replies stay in order.
            if (header.Opcode == Opcode.ListKeys)
                return FrameAction.HandleAsync;
            link.ProcessFrame(header, frame);
            return FrameAction.Continue;
        }

        public ValueTask OnFrameAsync(FrameHeader header, ReadOnlySequence<byte> frame, CancellationToken _) =>
            new(link.StreamKeysAsync(header, frame, cancellationToken));

        public ValueTask OnBatchEndAsync(CancellationToken _) => link.CompleteBatchAsync(cancellationToken);

        public ValueTask OnPausedAsync(CancellationToken _) => default;

        public void OnFrameTooLarge(in FrameHeader header) =>
            throw new InvalidDataException($"router sent a frame of {(uint)header.BodyLength} bytes, above the limit");
    }

    private void ProcessFrame(in FrameHeader header, in ReadOnlySequence<byte> frame)
    {
        using var bytes = new ContiguousBytes(frame);
        _processor.Process(header, bytes.Span[ProtocolLimits.HeaderSize..], _output);
    }

    /// <summary>Group commit: one durability wait covers every write of the batch, then one flush sends all replies.</summary>
    private async ValueTask CompleteBatchAsync(CancellationToken cancellationToken)
    {
        if (_processor.TakeAppliedWrites() > 0)
            await _engine.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (_processor.TakePendingHistory(out var history))
        {
            // A crash before this checkpoint must not leave a half-synced store claiming the history.
            await _engine.CheckpointAsync(cancellationToken).ConfigureAwait(false);
            _identity.SetHistory(history);
        }
        if (_output.UnflushedBytes > 0)
            await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task StreamKeysAsync(FrameHeader request, ReadOnlySequence<byte> frame, CancellationToken cancellationToken)
    {
        var prefix = ReadPrefix(frame);
        if (prefix is null)
        {
            ErrorReply.Write(_output, Opcode.ListKeys, request.RequestId, StatusCode.ProtocolError, "malformed ListKeys body");
            return;
        }
        var chunk = new KeyChunkWriter(_output, request.RequestId, _options.KeysPerChunk);
        var total = 0L;
        foreach (var key in _engine.ListKeys(prefix))
        {
            total++;
            if (chunk.Add(key))
                await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        chunk.Finish();
        await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        LogListed(total);
    }

    private static byte[]? ReadPrefix(in ReadOnlySequence<byte> frame)
    {
        using var bytes = new ContiguousBytes(frame);
        return KeyRequest.TryRead(bytes.Span[ProtocolLimits.HeaderSize..], out var prefix) ? prefix.ToArray() : null;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _output.CompleteAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or SocketException)
        {
            // The router is gone; unsent replies die with the link, the router fails or retries them.
        }
        await _input.CompleteAsync().ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
        _socket.Dispose();
        _processor.Metrics.Dispose();
    }

    [LoggerMessage(10, LogLevel.Debug, "Listed {Count} keys")]
    private partial void LogListed(long count);
}

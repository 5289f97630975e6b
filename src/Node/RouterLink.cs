using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Text;
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
        while (true)
        {
            var result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var status = FrameReader.TryRead(ref buffer, _options.MaxFrameSize, out var header, out var frame);
            if (status == FrameReadStatus.Complete)
            {
                // Copy what is needed before AdvanceTo: the frame's memory belongs to the pipe after it.
                var body = frame.Slice(ProtocolLimits.HeaderSize).ToArray();
                var message = Encoding.UTF8.GetString(body);
                _input.AdvanceTo(buffer.Start);
                switch (header.Status)
                {
                    case StatusCode.Ok:
                        if (HelloResponse.TryRead(body, out var hello))
                            ConnectionId = hello.ConnectionId;
                        return;
                    case StatusCode.AuthFailed or StatusCode.VersionMismatch or StatusCode.NotAuthorized:
                        throw new NodeFatalException($"router refused the node: {header.Status}: {message}");
                    default:
                        throw new InvalidDataException($"router answered hello with {header.Status}: {message}");
                }
            }
            if (status == FrameReadStatus.TooLarge || result.IsCompleted)
                throw new InvalidDataException("router closed the connection during the handshake");
            _input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public async Task ServeAsync(CancellationToken cancellationToken)
    {
        using var registration = cancellationToken.Register(static s => ((RouterLink)s!)._input.CancelPendingRead(), this);
        while (!cancellationToken.IsCancellationRequested)
        {
            var result = await _input.ReadAsync(CancellationToken.None).ConfigureAwait(false);
            if (result.IsCanceled)
                return;
            var buffer = result.Buffer;
            while (true)
            {
                var status = FrameReader.TryRead(ref buffer, _options.MaxFrameSize, out var header, out var frame);
                if (status == FrameReadStatus.TooLarge)
                    throw new InvalidDataException($"router sent a frame of {header.BodyLength} bytes, above the limit");
                if (status == FrameReadStatus.NeedMoreData)
                    break;
                if (header.Opcode == Opcode.ListKeys)
                {
                    // Streams many frames: finish this batch first so replies stay in order.
                    await CompleteBatchAsync(cancellationToken).ConfigureAwait(false);
                    await StreamKeysAsync(header, frame.Slice(ProtocolLimits.HeaderSize), cancellationToken).ConfigureAwait(false);
                    continue;
                }
                ProcessFrame(header, frame);
            }
            await CompleteBatchAsync(cancellationToken).ConfigureAwait(false);
            _input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
                return;
        }
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

    private async Task StreamKeysAsync(FrameHeader request, ReadOnlySequence<byte> body, CancellationToken cancellationToken)
    {
        var prefix = ReadPrefix(body);
        if (prefix is null)
        {
            FrameWriter.WriteError(_output, Opcode.ListKeys, request.RequestId, StatusCode.ProtocolError, "malformed ListKeys body");
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

    private static byte[]? ReadPrefix(in ReadOnlySequence<byte> body)
    {
        using var bytes = new ContiguousBytes(body);
        var reader = new BodyReader(bytes.Span);
        return reader.TryReadField(out var prefix) && reader.IsAtEnd ? prefix.ToArray() : null;
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

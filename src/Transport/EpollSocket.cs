using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace KvnDb.Transport;

/// <summary>
/// A connected socket on an <see cref="EpollLoop"/>, as a pair of pipes. The socket is non-blocking and registered
/// edge-triggered; both pipes schedule inline, so the reader of <see cref="Input"/> runs on the epoll thread straight
/// after the receive and a flush of <see cref="Output"/> sends at once on the flushing thread, with no thread-pool hop
/// either way. A receive shorter than the buffer means the socket was drained at that instant (an edge comes for any
/// later data), so a request costs one receive call, not a second one that ends in EAGAIN.
/// </summary>
internal sealed class EpollSocket : IDuplexPipe, IAsyncDisposable
{
    private const int ReceiveSize = 4096;
    private const int MaxReceiveBatch = 16 * ReceiveSize;
    private static readonly TimeSpan DrainOnDispose = TimeSpan.FromSeconds(2);

    private readonly Socket _socket;
    private readonly EpollLoop _loop;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly ReadinessSignal _readable = new();
    private readonly ReadinessSignal _writable = new();
    private readonly CancellationTokenSource _closed = new();
    private Task _receiving = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;
    private Exception? _abortReason;
    private int _aborted;
    private int _closeFired;
    private int _disposed;
    private bool _peerEnded;

    /// <param name="socket">Connected; made non-blocking here.</param>
    /// <param name="loop">The I/O thread that receives its edges.</param>
    /// <param name="maxReadBufferSize">Unread input past this stops receiving from the socket (the largest frame must fit).</param>
    /// <param name="maxWriteBufferSize">Unsent output past this keeps the writer's flush pending (its back-pressure signal).</param>
    public EpollSocket(Socket socket, EpollLoop loop, long maxReadBufferSize, long maxWriteBufferSize)
    {
        _socket = socket;
        _socket.Blocking = false;
        _loop = loop;
        _input = new Pipe(PipeOptionsFor(maxReadBufferSize));
        _output = new Pipe(PipeOptionsFor(maxWriteBufferSize));
    }

    /// <summary>What the peer sent; its reader runs on the epoll thread.</summary>
    public PipeReader Input => _input.Reader;

    /// <summary>What goes to the peer; a flush sends on the flushing thread.</summary>
    public PipeWriter Output => _output.Writer;

    /// <summary>Cancelled (on the thread pool, never on the epoll thread) once the receive side ended.</summary>
    public CancellationToken Closed => _closed.Token;

    /// <summary>Bytes in the kernel not yet received.</summary>
    public int Available => _socket.Available;

    /// <summary>The socket's handle number, for the epoll registration.</summary>
    internal int FileDescriptor => (int)_socket.SafeHandle.DangerousGetHandle();

    /// <summary>Registration slot and generation on the loop (<see cref="EpollLoop"/>).</summary>
    internal ulong Token { get; set; }

    /// <summary>Registers the connected socket on its loop and starts moving bytes.</summary>
    public void Start()
    {
        _loop.Register(this);
        StartPumps();
    }

    /// <summary>
    /// Connects to <paramref name="remote"/> without a .NET asynchronous operation: one would register the socket with
    /// the runtime's own epoll, whose thread would then wake on every edge too. The connect is non-blocking and its
    /// completion is this loop's writable edge. Cancelling <paramref name="cancellationToken"/> abandons the attempt.
    /// </summary>
    /// <param name="remote">The peer.</param>
    /// <param name="loop">The I/O thread that receives its edges.</param>
    /// <param name="maxReadBufferSize">As in the constructor.</param>
    /// <param name="maxWriteBufferSize">As in the constructor.</param>
    /// <param name="configure">Sets the socket up before the connect (keepalive, timeouts).</param>
    /// <param name="cancellationToken">Abandons the attempt (the connect timeout).</param>
    public static async Task<EpollSocket> ConnectAsync(EndPoint remote, EpollLoop loop, long maxReadBufferSize, long maxWriteBufferSize,
        Action<Socket> configure, CancellationToken cancellationToken)
    {
        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        EpollSocket? connection = null;
        try
        {
            configure(socket);
            connection = new EpollSocket(socket, loop, maxReadBufferSize, maxWriteBufferSize);
            try
            {
                socket.Connect(remote);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress)
            {
                // Under way: the writable edge says when it ends.
            }
            loop.Register(connection);
            using (cancellationToken.UnsafeRegister(static s => ((ReadinessSignal)s!).Set(), connection._writable))
            {
                while (true)
                {
                    connection._writable.Clear();
                    var error = (int)socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)!;
                    if (error != 0)
                        throw new SocketException(error);
                    if (socket.Poll(0, SelectMode.SelectWrite))
                        break; // connected (the poll also tells the Socket so, for its endpoints)
                    cancellationToken.ThrowIfCancellationRequested();
                    await connection._writable.WaitAsync().ConfigureAwait(false);
                }
            }
            connection.StartPumps();
            return connection;
        }
        catch
        {
            if (connection is not null)
                await connection.DisposeAsync().ConfigureAwait(false);
            else
                socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Connects to <paramref name="host"/> as <see cref="ConnectAsync(EndPoint, EpollLoop, long, long, Action{Socket}, CancellationToken)"/>
    /// does, trying each of its addresses in turn ("localhost" may come as ::1 first while the peer listens on IPv4).
    /// </summary>
    /// <param name="host">A name, or an address literal (then the only one tried).</param>
    /// <param name="port">The peer's port.</param>
    /// <param name="loop">The I/O thread that receives its edges.</param>
    /// <param name="maxReadBufferSize">As in the constructor.</param>
    /// <param name="maxWriteBufferSize">As in the constructor.</param>
    /// <param name="configure">Sets each socket up before its connect.</param>
    /// <param name="cancellationToken">Abandons the attempt.</param>
    public static async Task<EpollSocket> ConnectAsync(string host, int port, EpollLoop loop, long maxReadBufferSize, long maxWriteBufferSize,
        Action<Socket> configure, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        SocketException? last = null;
        foreach (var address in addresses)
        {
            try
            {
                return await ConnectAsync(new IPEndPoint(address, port), loop, maxReadBufferSize, maxWriteBufferSize, configure, cancellationToken).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                last = ex;
            }
        }
        throw last ?? new SocketException((int)SocketError.HostNotFound);
    }

    private void StartPumps()
    {
        _receiving = ReceiveAsync();
        _sending = SendAsync();
    }

    /// <summary>Called on the epoll thread with the events of one edge.</summary>
    internal void OnEvents(uint events)
    {
        // The peer's end (or an error) comes as one edge, often with its last bytes: a short read of those bytes must not
        // pass for "drained", since no further edge will announce the end.
        if ((events & (EpollNative.EPOLLRDHUP | EpollNative.EPOLLHUP | EpollNative.EPOLLERR)) != 0)
            Volatile.Write(ref _peerEnded, true);
        if ((events & (EpollNative.EPOLLIN | EpollNative.EPOLLRDHUP | EpollNative.EPOLLHUP | EpollNative.EPOLLERR)) != 0)
            _readable.Set();
        if ((events & (EpollNative.EPOLLOUT | EpollNative.EPOLLHUP | EpollNative.EPOLLERR)) != 0)
            _writable.Set();
    }

    private async Task ReceiveAsync()
    {
        var writer = _input.Writer;
        Exception? error = null;
        try
        {
            while (true)
            {
                _readable.Clear();
                var (received, drained, ended) = ReceiveAvailable(writer);
                if (received > 0)
                {
                    var flush = await writer.FlushAsync().ConfigureAwait(false);
                    if (flush.IsCompleted || flush.IsCanceled)
                        break; // the reader stopped reading
                }
                if (ended || Volatile.Read(ref _aborted) != 0)
                    break;
                // Edge-triggered: only a drained socket brings another edge; bytes left in it are read on at once.
                if (drained)
                    await _readable.WaitAsync().ConfigureAwait(false);
            }
        }
        catch (SocketException ex) when (IsConnectionReset(ex.SocketErrorCode))
        {
            // An IOException, as Kestrel's ConnectionResetException is: readers catch the one type for either engine.
            error = new IOException($"the connection was reset: {ex.Message}", ex);
        }
        catch (SocketException ex) when (ex.SocketErrorCode is SocketError.OperationAborted or SocketError.Shutdown or SocketError.NotConnected)
        {
            // Aborted by us: the reason (if any) is what the reader sees.
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            await writer.CompleteAsync(_abortReason ?? error).ConfigureAwait(false);
            FireClosed();
        }
    }

    private async Task SendAsync()
    {
        var reader = _output.Reader;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync().ConfigureAwait(false);
                if (result.IsCanceled)
                    break;
                var buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    _writable.Clear();
                    var sent = SendSome(buffer, out var blocked);
                    buffer = buffer.Slice(sent);
                    if (blocked)
                        await _writable.WaitAsync().ConfigureAwait(false);
                    if (Volatile.Read(ref _aborted) != 0)
                        return;
                }
                reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                    break;
            }
        }
        catch (SocketException)
        {
            // The peer is gone (reset, broken pipe): the writer's next flush just reports completion, as with
            // Kestrel's own transport, and the receive side ends with the connection.
            Abort(new IOException("The peer stopped accepting data."));
        }
        catch (Exception ex)
        {
            error = ex;
        }
        finally
        {
            // The writer's writes end with ours: a later flush completes at once, not into a pipe nobody reads.
            await reader.CompleteAsync(error).ConfigureAwait(false);
            ShutdownSocket(SocketShutdown.Send);
        }
    }

    /// <summary>
    /// Receives into the input pipe until the socket is drained (a short read or EAGAIN), it ended, or a batch is in
    /// hand (the reader sees it, and the pipe can push back, before more is read).
    /// </summary>
    private (int Received, bool Drained, bool Ended) ReceiveAvailable(PipeWriter writer)
    {
        var received = 0;
        while (true)
        {
            var buffer = writer.GetSpan(ReceiveSize);
            var count = _socket.Receive(buffer, SocketFlags.None, out var status);
            if (status == SocketError.WouldBlock)
                return (received, true, false);
            if (status != SocketError.Success)
                throw new SocketException((int)status);
            if (count == 0)
                return (received, true, true);
            writer.Advance(count);
            received += count;
            if (count < buffer.Length && !Volatile.Read(ref _peerEnded))
                return (received, true, false); // drained at that instant: any later byte brings an edge
            if (received >= MaxReceiveBatch)
                return (received, false, false);
        }
    }

    /// <summary>Sends segments until one blocks; returns the bytes the socket took.</summary>
    private long SendSome(in ReadOnlySequence<byte> buffer, out bool blocked)
    {
        blocked = false;
        long total = 0;
        foreach (var segment in buffer)
        {
            var span = segment.Span;
            while (!span.IsEmpty)
            {
                var count = _socket.Send(span, SocketFlags.None, out var status);
                if (status == SocketError.WouldBlock)
                {
                    blocked = true;
                    return total;
                }
                if (status != SocketError.Success)
                    throw new SocketException((int)status);
                total += count;
                span = span[count..];
            }
        }
        return total;
    }

    /// <summary>Ends the connection now; <paramref name="reason"/> (if any) is what the input's reader sees.</summary>
    public void Abort(Exception? reason)
    {
        if (Interlocked.Exchange(ref _aborted, 1) != 0)
            return;
        _abortReason = reason;
        try
        {
            _output.Reader.CancelPendingRead();
        }
        catch (InvalidOperationException)
        {
            // The send loop already completed its reader.
        }
        ShutdownSocket(SocketShutdown.Both);
        // The edge of the shutdown may come late or not at all for a socket already drained: wake both loops now.
        _readable.Set();
        _writable.Set();
    }

    public async ValueTask DisposeAsync()
    {
        // Once: a second unregister would name a descriptor number that may belong to another socket by then.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
            return;
        await _input.Reader.CompleteAsync().ConfigureAwait(false);
        await _output.Writer.CompleteAsync().ConfigureAwait(false);
        try
        {
            // What was written last still leaves, unless the peer has stopped reading.
            await _sending.WaitAsync(DrainOnDispose).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
        }
        Abort(null);
        await _sending.ConfigureAwait(false);
        await _receiving.ConfigureAwait(false);
        _loop.Unregister(this);
        _socket.Dispose();
        _closed.Dispose();
    }

    private void FireClosed()
    {
        if (Interlocked.Exchange(ref _closeFired, 1) != 0)
            return;
        // On the pool: what a reader registered on Closed must not run on the epoll thread.
        ThreadPool.UnsafeQueueUserWorkItem(static state =>
        {
            try
            {
                state.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // Disposed first: nobody is left to tell.
            }
        }, _closed, preferLocal: false);
    }

    private void ShutdownSocket(SocketShutdown how)
    {
        try
        {
            _socket.Shutdown(how);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed by the peer or by us.
        }
    }

    private static bool IsConnectionReset(SocketError error) =>
        error is SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Interrupted or SocketError.TimedOut;

    private static PipeOptions PipeOptionsFor(long pauseThreshold) => new(
        pool: MemoryPool<byte>.Shared, // the pipe then rents from ArrayPool directly, with no per-buffer object
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: pauseThreshold,
        resumeWriterThreshold: pauseThreshold / 2,
        minimumSegmentSize: ReceiveSize,
        useSynchronizationContext: false);
}

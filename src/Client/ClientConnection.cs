using System.Diagnostics;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Security.Authentication;
using KvnDb.Protocol;
using KvnDb.Protocol.Tls;
using Microsoft.Extensions.ObjectPool;

namespace KvnDb.Client;

/// <summary>
/// One socket to the router shared by every caller. Callers append frames to a send pipe under a
/// short lock (the fast path never awaits); a send loop writes whatever has accumulated, so many
/// concurrent callers share one syscall. A read loop matches responses to callers by request id.
/// A timer expires requests and watches the router: it pings after <see cref="KvnDbClientOptions.PingInterval"/>
/// of silence, and declares the connection dead after <see cref="KvnDbClientOptions.RouterTimeout"/> of
/// silence or <see cref="KvnDbClientOptions.MaxConsecutiveTimeouts"/> timeouts in a row. A dead connection
/// fails everything in flight, closes its socket, and tells its owner once (<c>onDead</c>).
/// </summary>
internal sealed partial class ClientConnection : IAsyncDisposable
{
    private static readonly TimeSpan TimeoutSweepInterval = TimeSpan.FromMilliseconds(50);

    private readonly Socket _socket;
    private readonly Stream _stream;
    private readonly PipeReader _input;
    private readonly Pipe _sendPipe = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));
    private readonly Lock _writeLock = new();
    private readonly Lock _pendingLock = new();
    private readonly Dictionary<ulong, PendingOperation> _pending = [];

    /// <summary>Requests given up here (timeout, cancel) that still hold their in-flight slot until the router answers them.</summary>
    private readonly HashSet<ulong> _owed = [];
    private InFlightSlots? _slots;
    private readonly ObjectPool<PendingReply> _replyPool = new DefaultObjectPool<PendingReply>(new DefaultPooledObjectPolicy<PendingReply>(), 1024);
    private readonly KvnDbClientOptions _options;

    /// <summary>The router this connection is to (<c>host:port</c>).</summary>
    public string Router => new RouterAddress(_options.Host, _options.Port).ToString();
    private readonly Timer _timeoutTimer;
    private readonly Task _sendLoop;
    private readonly Task _readLoop;
    private readonly Action<ClientConnection>? _onDead;
    private ulong _nextRequestId;
    private volatile Exception? _failure;
    private readonly ConnectionHeartbeat _heartbeat;
    private volatile bool _handshaking = true;

    private ClientConnection(Socket socket, Stream stream, KvnDbClientOptions options, Action<ClientConnection>? onDead)
    {
        _socket = socket;
        _options = options;
        _stream = stream;
        _onDead = onDead;
        _heartbeat = new ConnectionHeartbeat(options, Environment.TickCount64);
        _readLimit = options.MaxFrameSize;
        _sendLimit = options.MaxFrameSize;
        Limits = new RouterLimits(options.MaxFrameSize, ProtocolLimits.DefaultMaxKeySize, options.MaxFrameSize, null, null);
        _input = PipeReader.Create(_stream, new StreamPipeReaderOptions(leaveOpen: true));
        _sendLoop = Task.Run(SendLoopAsync);
        _readLoop = Task.Run(ReadLoopAsync);
        _timeoutTimer = new Timer(static s => ((ClientConnection)s!).OnTick(), this, TimeoutSweepInterval, TimeoutSweepInterval);
    }

    public bool IsAlive => _failure is null;

    /// <summary>Why the connection died (null while it lives).</summary>
    public Exception? Failure => _failure;

    public ulong ConnectionId { get; private set; }

    /// <summary>The router's limits from the hello reply (the client's own until the reply came).</summary>
    public RouterLimits Limits { get; private set; }

    private volatile int _readLimit;
    private volatile int _sendLimit;

    /// <summary>
    /// Adopts the router's limits: replies up to its frame limit are read (a multi-get reply may be as large), and a body
    /// above what it takes from clients (its frame limit less the forwarding headroom) is refused here, before it is sent.
    /// </summary>
    private void Adopt(HelloResponse response)
    {
        var maxRequest = response.Limits?.MaxRequestBody ?? response.MaxFrameSize - WriteLimits.ForwardingHeadroom;
        Limits = new RouterLimits(response.MaxFrameSize, response.MaxKeySize, maxRequest, response.Limits?.MaxInFlight, response.Limits?.OutputLimit);
        _readLimit = Math.Max(_options.MaxFrameSize, response.MaxFrameSize);
        _sendLimit = Math.Min(_options.MaxFrameSize, maxRequest);
        if (response.Limits?.MaxInFlight is > 0 and var maxInFlight)
            _slots = new InFlightSlots(maxInFlight);
    }

    /// <summary>The read loop's limit, which the hello reply raises to the router's frame limit.</summary>
    private readonly struct ReadLimit(ClientConnection connection) : IFrameSizeRule
    {
        public int MaxBodySize(in FrameHeader header) => connection._readLimit;
    }

    /// <summary>Connects, authenticates and returns a live connection; everything is bounded by <see cref="KvnDbClientOptions.ConnectTimeout"/>.</summary>
    public static async Task<ClientConnection> ConnectAsync(KvnDbClientOptions options, CancellationToken cancellationToken, Action<ClientConnection>? onDead = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var socket = options.SocketFactory?.Invoke() ?? new Socket(SocketType.Stream, ProtocolType.Tcp);
        socket.NoDelay = true;
        TcpLiveness.Apply(socket, options.RouterTimeout);
        try
        {
            await socket.ConnectAsync(options.Host, options.Port, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new KvnDbConnectionException($"cannot connect to {options.Host}:{options.Port}: {(ex is OperationCanceledException ? $"no answer within {options.ConnectTimeout.TotalSeconds:0.###} s" : ex.Message)}", ex);
        }

        Stream stream = new NetworkStream(socket, ownsSocket: true);
        if (options.Tls is { } tls)
        {
            try
            {
                stream = await TlsConnector.AuthenticateAsync(stream, options.Host, tls, timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is AuthenticationException or IOException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                await stream.DisposeAsync().ConfigureAwait(false);
                throw new KvnDbConnectionException($"TLS handshake with {options.Host}:{options.Port} failed: {(ex is OperationCanceledException ? $"no answer within {options.ConnectTimeout.TotalSeconds:0.###} s" : ex.Message)}", ex);
            }
        }
        var connection = new ClientConnection(socket, stream, options, onDead);
        try
        {
            var hello = HelloRequest.ForClient(options.Password);
            Reply reply;
            try
            {
                reply = await connection.SendHelloAsync(hello, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new KvnDbConnectionException($"{options.Host}:{options.Port} did not answer the hello within {options.ConnectTimeout.TotalSeconds:0.###} s", ex);
            }
            reply.ThrowIfError();
            if (reply.Body is null || !HelloResponse.TryRead(reply.Body, out var response))
                throw new KvnDbVersionMismatchException($"{options.Host}:{options.Port} answered the hello in a layout this client (protocol {ProtocolLimits.Version}) does not read");
            if (response.Version != ProtocolLimits.Version)
                throw new KvnDbVersionMismatchException($"protocol version mismatch: router speaks {response.Version}, this client {ProtocolLimits.Version}");
            connection.ConnectionId = response.ConnectionId;
            connection.Adopt(response);
            connection._heartbeat.Heard(Environment.TickCount64);
            connection._handshaking = false;
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private ValueTask<Reply> SendHelloAsync(HelloRequest hello, CancellationToken cancellationToken)
    {
        var pending = RentReply(Opcode.Hello);
        lock (_writeLock)
        {
            Register(pending, _options.ConnectTimeout); // part of connecting, bounded like the rest of it
            hello.Write(_sendPipe.Writer, pending.RequestId);
            WakeSendLoop();
        }
        return AwaitReplyAsync(pending, cancellationToken);
    }

    /// <summary>
    /// Sends a request and returns its (single) reply. Past the router's max in flight the request waits for a slot
    /// (within its request timeout) before it is sent; the fast path takes one without allocating.
    /// </summary>
    public ValueTask<Reply> SendAsync<TBody>(Opcode opcode, FrameFlags flags, TBody body, CancellationToken cancellationToken)
        where TBody : struct, IRequestBody
    {
        if (_slots is { } slots && !slots.TryTake())
            return SendWhenFreeAsync(slots, opcode, flags, body, cancellationToken);
        return SendHoldingSlotAsync(opcode, flags, body, _options.RequestTimeout, cancellationToken);
    }

    private async ValueTask<Reply> SendWhenFreeAsync<TBody>(InFlightSlots slots, Opcode opcode, FrameFlags flags, TBody body, CancellationToken cancellationToken)
        where TBody : struct, IRequestBody
    {
        var started = Stopwatch.GetTimestamp();
        await slots.TakeAsync(opcode, _options.RequestTimeout, cancellationToken).ConfigureAwait(false);
        return await SendHoldingSlotAsync(opcode, flags, body, Remaining(_options.RequestTimeout, started), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What is left of a request's timeout after it waited for a slot (the wait counts against it).</summary>
    private static TimeSpan Remaining(TimeSpan timeout, long started)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
            return timeout;
        var left = timeout - Stopwatch.GetElapsedTime(started);
        return left > TimeSpan.FromMilliseconds(1) ? left : TimeSpan.FromMilliseconds(1);
    }

    /// <summary>Sends a request whose slot is taken (or that needs none); a send that fails gives the slot back.</summary>
    private ValueTask<Reply> SendHoldingSlotAsync<TBody>(Opcode opcode, FrameFlags flags, TBody body, TimeSpan timeout, CancellationToken cancellationToken)
        where TBody : struct, IRequestBody
    {
        var pending = RentReply(opcode);
        pending.HoldsSlot = _slots is not null;
        try
        {
            Send(pending, flags, body, timeout);
        }
        catch
        {
            GiveSlot(pending);
            throw;
        }
        return AwaitReplyAsync(pending, cancellationToken);
    }

    /// <summary>Sends a key listing request (it holds one in-flight slot until its last chunk); keys arrive on the returned stream.</summary>
    public async ValueTask<PendingKeyStream> SendListKeysAsync<TBody>(TBody body, CancellationToken cancellationToken) where TBody : struct, IRequestBody
    {
        var stream = new PendingKeyStream { Opcode = Opcode.ListKeys };
        await SendStreamAsync(stream, FrameFlags.None, body, cancellationToken).ConfigureAwait(false);
        return stream;
    }

    /// <summary>A multi-get flagged More: the router may answer it in chunks when the values pass its frame limit.</summary>
    public async ValueTask<PendingMultiGet> SendMultiGetAsync<TBody>(TBody body, int keys, CancellationToken cancellationToken) where TBody : struct, IRequestBody
    {
        var multiGet = new PendingMultiGet(keys) { Opcode = Opcode.MultiGet };
        await SendStreamAsync(multiGet, FrameFlags.More, body, cancellationToken).ConfigureAwait(false);
        return multiGet;
    }

    /// <summary>Sends a request answered by one or more frames, once it has one of the router's in-flight slots.</summary>
    private async ValueTask SendStreamAsync<TBody>(PendingOperation pending, FrameFlags flags, TBody body, CancellationToken cancellationToken) where TBody : struct, IRequestBody
    {
        var timeout = _options.RequestTimeout;
        if (_slots is { } slots)
        {
            var started = Stopwatch.GetTimestamp();
            if (!slots.TryTake())
                await slots.TakeAsync(pending.Opcode, timeout, cancellationToken).ConfigureAwait(false);
            timeout = Remaining(timeout, started);
            pending.HoldsSlot = true;
        }
        try
        {
            Send(pending, flags, body, timeout);
        }
        catch
        {
            GiveSlot(pending);
            throw;
        }
    }

    private void GiveSlot(PendingOperation pending)
    {
        if (!pending.HoldsSlot)
            return;
        pending.HoldsSlot = false;
        _slots?.Give();
    }

    /// <summary>Starts a monitor: its events arrive on the returned stream until <see cref="StopMonitor"/> or the connection ends (no timeout: a quiet router is not a slow one).</summary>
    public PendingMonitorStream SendMonitor()
    {
        var stream = new PendingMonitorStream { Opcode = Opcode.Monitor };
        Send(stream, FrameFlags.None, new MonitorBody(MonitorEvent.Start), Timeout.InfiniteTimeSpan);
        return stream;
    }

    /// <summary>Asks the router to stop the monitor and drops whatever it still sends for it.</summary>
    public void StopMonitor(PendingMonitorStream stream)
    {
        lock (_pendingLock)
            _pending.Remove(stream.RequestId);
        stream.Fail(new OperationCanceledException("monitor stopped"));
        if (!IsAlive)
            return;
        try
        {
            var stop = new PendingMonitorStream { Opcode = Opcode.Monitor };
            Send(stop, FrameFlags.NoReply, new MonitorBody(MonitorEvent.Stop), Timeout.InfiniteTimeSpan);
            lock (_pendingLock)
                _pending.Remove(stop.RequestId); // NoReply: nothing comes back for it
        }
        catch (KvnDbException)
        {
            // The connection died meanwhile: the router dropped the monitor with it.
        }
    }

    private PendingReply RentReply(Opcode opcode)
    {
        var pending = _replyPool.Get();
        pending.Pool = _replyPool;
        pending.Opcode = opcode;
        pending.HoldsSlot = false;
        return pending;
    }

    private void Send<TBody>(PendingOperation pending, FrameFlags flags, TBody body) where TBody : struct, IRequestBody =>
        Send(pending, flags, body, _options.RequestTimeout);

    private void Send<TBody>(PendingOperation pending, FrameFlags flags, TBody body, TimeSpan timeout) where TBody : struct, IRequestBody
    {
        var length = body.Length;
        if (length > _sendLimit)
            throw new KvnDbProtocolException($"request of {length} bytes is above the frame limit of {_sendLimit} bytes" +
                (_sendLimit < _options.MaxFrameSize ? " (the router's, announced at hello)" : ""), StatusCode.FrameTooLarge);
        lock (_writeLock)
        {
            ThrowIfFailed();
            Register(pending, timeout);
            var span = _sendPipe.Writer.GetSpan(ProtocolLimits.HeaderSize + length);
            new FrameHeader(length, pending.Opcode, flags, StatusCode.Ok, pending.RequestId).Write(span);
            body.Write(span.Slice(ProtocolLimits.HeaderSize, length));
            _sendPipe.Writer.Advance(ProtocolLimits.HeaderSize + length);
            WakeSendLoop();
        }
    }

    /// <summary>
    /// Called holding the write lock. The send pipe never pauses its writer (threshold 0), so the flush
    /// has completed when it returns: it only wakes the send loop, and is consumed here.
    /// </summary>
    private void WakeSendLoop()
    {
        var flush = _sendPipe.Writer.FlushAsync(CancellationToken.None);
        if (flush.IsCompleted)
        {
            _ = flush.Result;
            return;
        }
        throw new UnreachableException("a send pipe with no pause threshold never makes its writer wait");
    }

    /// <summary>Called holding the write lock; throws, registering nothing, once the connection is dead.</summary>
    private void Register(PendingOperation pending, TimeSpan timeout)
    {
        pending.RequestId = ++_nextRequestId;
        pending.DeadlineMs = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        lock (_pendingLock)
        {
            // Checked under the pending lock that FailAll drains under: a request registers before the
            // drain (and is failed by it) or sees the failure, never falls in between.
            ThrowIfFailed();
            _pending.Add(pending.RequestId, pending);
        }
    }

    private ValueTask<Reply> AwaitReplyAsync(PendingReply pending, CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled ? AwaitCancellableAsync(pending, cancellationToken) : pending.Task;

    private async ValueTask<Reply> AwaitCancellableAsync(PendingReply pending, CancellationToken cancellationToken)
    {
        var requestId = pending.RequestId;
        await using var registration = cancellationToken.UnsafeRegister(
            static (state, token) => ((ClientConnection)((object[])state!)[0]).Cancel((ulong)((object[])state)[1], token),
            new object[] { this, requestId }).ConfigureAwait(false);
        return await pending.Task.ConfigureAwait(false);
    }

    private void Cancel(ulong requestId, CancellationToken token)
    {
        if (TryRemove(requestId, out var pending))
            pending.Fail(new OperationCanceledException(token));
    }

    /// <summary>Gives up on a request here; the router still counts it, so its slot stays taken until the router answers.</summary>
    private bool TryRemove(ulong requestId, out PendingOperation pending)
    {
        lock (_pendingLock)
        {
            if (!_pending.Remove(requestId, out pending!))
                return false;
            KeepOwedLocked(pending);
            return true;
        }
    }

    /// <summary>Called holding the pending lock.</summary>
    private void KeepOwedLocked(PendingOperation pending)
    {
        if (!pending.HoldsSlot)
            return;
        pending.HoldsSlot = false;
        _owed.Add(pending.RequestId);
    }

    private void OnTick()
    {
        if (_failure is not null)
            return;
        FailExpired();
        if (_handshaking)
            return; // the hello has its own bound (ConnectTimeout); nothing but the hello may be sent before its answer
        var now = Environment.TickCount64;
        switch (_heartbeat.Check(now, HasUnreadBytes))
        {
            case ConnectionHeartbeat.Verdict.Dead:
                Die(new KvnDbConnectionException($"router {_options.Host}:{_options.Port} sent nothing for {_heartbeat.SilentMs(now) / 1000.0:0.###} s (pings included); connection dropped"));
                break;
            case ConnectionHeartbeat.Verdict.Ping:
                SendPing();
                break;
        }
    }

    /// <summary>Bytes from the router wait in the kernel: this process is slow, the router is not silent.</summary>
    private bool HasUnreadBytes()
    {
        try
        {
            return _socket.Available > 0;
        }
        catch (Exception ex) when (ex is ObjectDisposedException or SocketException)
        {
            return false;
        }
    }

    /// <summary>A ping nobody waits for: its answer (any byte, really) is what keeps the connection alive.</summary>
    private void SendPing()
    {
        lock (_writeLock)
        {
            if (_failure is not null)
                return;
            FrameWriter.WriteHeaderOnly(_sendPipe.Writer, new FrameHeader(0, Opcode.Ping, FrameFlags.None, StatusCode.Ok, ++_nextRequestId));
            WakeSendLoop();
        }
    }

    /// <summary>The router pinged this connection: answer with its id.</summary>
    private void AnswerPing(ulong requestId)
    {
        lock (_writeLock)
        {
            if (_failure is not null)
                return;
            FrameWriter.WriteHeaderOnly(_sendPipe.Writer, new FrameHeader(0, Opcode.Ping, FrameFlags.Response, StatusCode.Ok, requestId));
            WakeSendLoop();
        }
    }

    private void FailExpired()
    {
        var now = Environment.TickCount64;
        List<PendingOperation>? expired = null;
        lock (_pendingLock)
        {
            foreach (var (id, pending) in _pending)
            {
                if (pending.DeadlineMs <= now)
                    (expired ??= []).Add(pending);
            }
            if (expired is null)
                return;
            foreach (var pending in expired)
            {
                _pending.Remove(pending.RequestId);
                KeepOwedLocked(pending);
            }
        }
        foreach (var pending in expired)
            pending.Fail(new KvnDbTimeoutException($"{pending.Opcode} got no answer within {(pending.Opcode == Opcode.Hello ? _options.ConnectTimeout : _options.RequestTimeout).TotalSeconds:0.###} s"));
        if (_heartbeat.TimedOut(expired.Count, out var inARow))
            Die(new KvnDbConnectionException($"{inARow} requests in a row got no answer from {_options.Host}:{_options.Port}; connection dropped"));
    }

    private void ThrowIfFailed()
    {
        var failure = _failure;
        if (failure is not null)
            throw new KvnDbConnectionException($"connection to {_options.Host}:{_options.Port} is closed: {failure.Message}", failure);
    }

    /// <summary>The connection is dead though its socket is not closed: close it, so both loops end.</summary>
    private void Die(Exception reason)
    {
        if (!FailAll(reason))
            return;
        _socket.Dispose();
    }

    /// <summary>
    /// Marks the connection dead and fails every request in flight; later calls fail at once. The first
    /// call tells the owner; returns whether this was it.
    /// </summary>
    private bool FailAll(Exception reason)
    {
        var error = reason as KvnDbException ?? new KvnDbConnectionException($"connection to {_options.Host}:{_options.Port} lost: {reason.Message}", reason);
        List<PendingOperation> failed;
        bool first;
        lock (_pendingLock)
        {
            first = _failure is null;
            _failure ??= error;
            failed = [.. _pending.Values];
            _pending.Clear();
            _owed.Clear();
        }
        _slots?.Close(); // requests waiting for a slot fail now, not at their timeout
        foreach (var pending in failed)
            pending.Fail(error);
        if (first)
            _onDead?.Invoke(this);
        return first;
    }

    public async ValueTask DisposeAsync()
    {
        FailAll(new KvnDbConnectionException("connection closed by the client"));
        await _timeoutTimer.DisposeAsync().ConfigureAwait(false);
        ValueTask completed;
        lock (_writeLock)
            completed = _sendPipe.Writer.CompleteAsync(); // a pipe's writer completes at the call, under the lock; awaited outside it
        await completed.ConfigureAwait(false);
        _input.CancelPendingRead();
        await _sendLoop.ConfigureAwait(false);
        _socket.Dispose();
        await _readLoop.ConfigureAwait(false);
        await _stream.DisposeAsync().ConfigureAwait(false);
    }
}

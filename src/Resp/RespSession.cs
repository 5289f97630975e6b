using System.Buffers;
using System.IO.Pipelines;
using KvnDb.Router;
using Microsoft.Extensions.Logging;

namespace KvnDb.Resp;

/// <summary>
/// One RESP client connection. Each read is handled run-to-completion: every complete command is
/// parsed in place, answered locally or encoded as a native frame and submitted to the cluster,
/// then touched channels are flushed once. Node replies arrive on node-link threads in any order;
/// each command owns a <see cref="ReplySlot"/> and replies leave in command order.
/// </summary>
internal sealed partial class RespSession : IReplyTarget, ITrackedClient, IReplyBudget
{
    private const int InitialSlots = 16;

    /// <summary>How long a closing connection waits for the replies it still owes.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(30);

    private static readonly Action<IBufferWriter<byte>, ReadOnlyMemory<byte>> CopyBytes = static (w, bytes) => w.Write(bytes.Span);

    private readonly RespServerState _server;
    private readonly IRouterCore _core;
    private readonly ILogger _logger;
    private readonly Lock _replyLock = new();
    private readonly RespArguments _arguments = new();
    private readonly ArrayBufferWriter<byte> _scratch = new(256);
    private readonly ArrayBufferWriter<byte> _local = new(256);
    private readonly IFlushBatch _flush;
    private byte[]? _straddle;
    private ReplySlot[] _ring;
    private ulong _next = 1;
    private ulong _head = 1;
    private TaskCompletionSource? _roomWaiter;
    private ulong _roomThreshold;
    private ulong _failedAuthSlot;

    /// <summary>Replies owed before the connection stops reading (pipelining back-pressure: a window up to <c>--max-inflight</c>).</summary>
    private readonly ReplyWindow _window;
    private bool _resp3;
    private bool _authenticated;
    private string? _name;
    private ReplyMode _replyMode;
    private readonly long _connectedAt = Environment.TickCount64;

    /// <summary>Bytes of replies held in slots, waiting for earlier replies: counted against the output limit (issue 16).</summary>
    private long _heldBytes;

    /// <summary>Redis's limits for an unauthenticated connection: a multibulk of at most 10 elements, bulks of at most 16 KiB.</summary>
    private const int MaxArgumentsBeforeAuth = 10;
    private const int MaxBulkBeforeAuth = 16 * 1024;

    public RespSession(long id, string remoteAddress, OutputChannel output, RespServerState server, ILogger logger, Action abort)
    {
        _abort = abort;
        Id = id;
        RemoteAddress = remoteAddress;
        Output = output;
        _server = server;
        _core = server.Core;
        _flush = _core.CreateFlushBatch();
        _logger = logger;
        _authenticated = !server.Password.IsRequired;
        _window = new ReplyWindow(_core.Options.MaxInFlightPerClient, _core.Options.ReplyBudgetBytes);
        _ring = new ReplySlot[InitialSlots];
        for (var i = 0; i < _ring.Length; i++)
            _ring[i] = new ReplySlot();
    }

    private readonly Action _abort;

    public long Id { get; }

    public long LastActivityMs { get; private set; } = Environment.TickCount64;

    public bool HasRequestsInFlight => InFlight > 0;

    public void Abort() => _abort();

    public string RemoteAddress { get; }

    public OutputChannel Output { get; }

    public async Task RunAsync(PipeReader input, CancellationToken cancellationToken)
    {
        // A connection that does not authenticate in time is closed, as a native one is at its handshake.
        await using var authTimer = _authenticated || _core.Options.HandshakeTimeout <= TimeSpan.Zero
            ? null
            : new Timer(static state => ((RespSession)state!).CloseIfUnauthenticated(), this, _core.Options.HandshakeTimeout, Timeout.InfiniteTimeSpan);
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
                LastActivityMs = Environment.TickCount64;
                var buffer = result.Buffer;
                var outcome = ProcessBatch(ref buffer);
                FlushTouched();
                switch (outcome)
                {
                    case BatchOutcome.NeedMore:
                        input.AdvanceTo(buffer.Start, buffer.End);
                        if (result.IsCompleted)
                        {
                            // The client finished sending (perhaps a half-close): still answer what it asked.
                            await DrainAsync().ConfigureAwait(false);
                            return;
                        }
                        break;
                    case BatchOutcome.Backpressure:
                        input.AdvanceTo(buffer.Start);
                        await WaitForRoomAsync((ulong)_window.Limit / 2).WaitAsync(cancellationToken).ConfigureAwait(false);
                        break;
                    case BatchOutcome.OutputBackedUp:
                        input.AdvanceTo(buffer.Start);
                        // Only this connection waits: node links wrote its replies and moved on (OutputChannel).
                        await Output.WhenDrained.WaitAsync(cancellationToken).ConfigureAwait(false);
                        break;
                    case BatchOutcome.WaitForWatches:
                        input.AdvanceTo(buffer.Start);
                        await WatchesAnsweredAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
                        Exec();
                        FlushTouched();
                        break;
                    case BatchOutcome.AuthDelay:
                        input.AdvanceTo(buffer.Start);
                        // Only this connection waits; everything it owes before the AUTH still flows.
                        await Task.Delay(_core.Options.AuthFailureDelay, cancellationToken).ConfigureAwait(false);
                        lock (_replyLock)
                        {
                            var slot = Find(_failedAuthSlot);
                            if (slot is not null)
                                Deliver(slot, "WRONGPASS invalid username-password pair or user is disabled.", RenderError);
                        }
                        FlushTouched();
                        break;
                    default:
                        input.AdvanceTo(buffer.Start);
                        await DrainAsync().ConfigureAwait(false);
                        return;
                }
            }
        }
        finally
        {
            Output.Close();
            if (_straddle is not null)
                ArrayPool<byte>.Shared.Return(_straddle);
        }
    }

    private void CloseIfUnauthenticated()
    {
        if (_authenticated)
            return;
        RespLog.AuthTimeout(_logger, Id, RemoteAddress);
        _abort();
    }

    /// <summary>The connection is gone: it leaves its channels.</summary>
    public void Closed() => LeaveAllChannels();

    /// <summary>Handles every complete command at the start of the buffer; leaves the buffer at the first one not handled.</summary>
    private BatchOutcome ProcessBatch(ref ReadOnlySequence<byte> buffer)
    {
        var maxCommandSize = _core.Options.MaxFrameSize;
        while (true)
        {
            if (InFlight >= (ulong)_window.Limit)
                return BatchOutcome.Backpressure;
            if (Output.IsBackedUp)
                return BatchOutcome.OutputBackedUp;
            var status = _authenticated
                ? RespRequestParser.TryParse(buffer, maxCommandSize, _arguments, out var length, out var error)
                : RespRequestParser.TryParse(buffer, maxCommandSize, _arguments, out length, out error, MaxArgumentsBeforeAuth, MaxBulkBeforeAuth);
            if (status == RespParseStatus.Incomplete)
                return BatchOutcome.NeedMore;
            if (status == RespParseStatus.Error)
            {
                _server.ProtocolError();
                RespLog.ProtocolError(_logger, Id, RemoteAddress, error!);
                ReplyError("ERR Protocol error: " + error);
                return BatchOutcome.Close;
            }
            var command = buffer.Slice(0, length);
            var outcome = _arguments.Count == 0
                ? BatchOutcome.Continue
                : Execute(new RespRequest(Contiguous(command), _arguments));
            buffer = buffer.Slice(length);
            if (outcome != BatchOutcome.Continue)
                return outcome;
        }
    }

    /// <summary>The command as one span: the pipe's memory, or a pooled copy when it straddles segments.</summary>
    private ReadOnlySpan<byte> Contiguous(in ReadOnlySequence<byte> command)
    {
        if (command.IsSingleSegment)
            return command.FirstSpan;
        var length = (int)command.Length;
        if (_straddle is null || _straddle.Length < length)
        {
            if (_straddle is not null)
                ArrayPool<byte>.Shared.Return(_straddle);
            _straddle = ArrayPool<byte>.Shared.Rent(length);
        }
        command.CopyTo(_straddle);
        return _straddle.AsSpan(0, length);
    }

    private void FlushTouched()
    {
        _flush.Add(Output);
        _flush.FlushAll();
    }

    private ulong InFlight
    {
        get
        {
            lock (_replyLock)
                return _next - _head;
        }
    }

    private async Task DrainAsync()
    {
        try
        {
            await WaitForRoomAsync(0).WaitAsync(DrainTimeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // Nodes did not answer in time; close anyway.
        }
        Output.Flush();
    }

    /// <summary>Completes once at most <paramref name="threshold"/> replies are owed.</summary>
    private Task WaitForRoomAsync(ulong threshold)
    {
        lock (_replyLock)
        {
            if (_next - _head <= threshold)
                return Task.CompletedTask;
            _roomThreshold = threshold;
            _roomWaiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _roomWaiter.Task;
        }
    }

    // ---- ordered reply slots (all under _replyLock) ----

    private ReplySlot BeginSlot(ReplyKind kind)
    {
        if (_next - _head == (ulong)_ring.Length)
            GrowRing();
        var number = _next++;
        var slot = _ring[number & (ulong)(_ring.Length - 1)];
        slot.Begin(number, kind, _resp3);
        if (_replyMode != ReplyMode.On)
        {
            slot.Silent = true;
            if (_replyMode == ReplyMode.SkipNext)
                _replyMode = ReplyMode.On;
        }
        return slot;
    }

    private void GrowRing()
    {
        var ring = new ReplySlot[_ring.Length * 2];
        for (var n = _head; n < _next; n++)
            ring[n & (ulong)(ring.Length - 1)] = _ring[n & (ulong)(_ring.Length - 1)];
        var spare = 0;
        for (var i = 0; i < ring.Length; i++)
        {
            if (ring[i] is not null)
                continue;
            // Reuse the old ring's free slots first, then make new ones.
            while (spare < _ring.Length && _ring[spare].Number != 0)
                spare++;
            ring[i] = spare < _ring.Length ? _ring[spare++] : new ReplySlot();
        }
        _ring = ring;
    }

    /// <summary>The slot still waiting for the reply with this id, or null for a late or foreign one.</summary>
    private ReplySlot? Find(ulong number)
    {
        if (number < _head || number >= _next)
            return null;
        var slot = _ring[number & (ulong)(_ring.Length - 1)];
        return slot.Number == number ? slot : null;
    }

    /// <summary>Gives a slot its final reply: straight to the client when every earlier reply is out, else kept in the slot.</summary>
    private void Deliver<TState>(ReplySlot slot, TState state, Action<IBufferWriter<byte>, TState> render)
    {
        if (Output.IsClosed)
            slot.Silent = true; // cut off (output limit) or gone: nothing more is rendered for it
        if (slot.Number == _head)
        {
            if (!slot.Silent)
                Output.Write((state, render), static (w, s) => s.render(w, s.state));
            Retire(slot);
            DrainCompleted();
            return;
        }
        slot.Complete = true;
        if (slot.Silent)
            return; // never sent: not worth holding
        slot.Reply = ReplySlot.Fresh(slot.Reply);
        render(slot.Reply, state);
        Hold(slot, slot.Reply.WrittenCount);
    }

    /// <summary>
    /// Counts reply bytes a slot holds while earlier replies are owed: past the output limit the connection is
    /// cut off, as one whose unread output passed it (a pipeline of large GETs behind a slow one cannot grow the router).
    /// </summary>
    private void Hold(ReplySlot slot, long bytes)
    {
        slot.HeldBytes += bytes;
        _heldBytes += bytes;
        if (_heldBytes > _core.Options.OutputLimitBytes && !Output.IsClosed)
        {
            RespLog.OutputLimit(_logger, RemoteAddress, _core.Options.OutputLimitBytes);
            Output.Close();
            _abort();
        }
    }

    private void DrainCompleted()
    {
        while (_head < _next)
        {
            var slot = _ring[_head & (ulong)(_ring.Length - 1)];
            if (!slot.Complete)
                return;
            if (!slot.Silent)
                Output.Write(slot.Reply!.WrittenMemory, CopyBytes);
            Retire(slot);
        }
    }

    /// <summary>What the request just submitted may bring back narrows the window before the next command is read.</summary>
    public void Expect(long replyBytes) => _window.Observe(replyBytes);

    private void Retire(ReplySlot slot)
    {
        _window.Completed(Output.IsBackedUp);
        _heldBytes -= slot.HeldBytes;
        slot.End();
        _head++;
        if (_roomWaiter is not null && _next - _head <= _roomThreshold)
        {
            _roomWaiter.TrySetResult();
            _roomWaiter = null;
        }
    }
}

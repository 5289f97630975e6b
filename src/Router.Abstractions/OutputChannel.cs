using System.Buffers;
using System.IO.Pipelines;
using KvnDb.Protocol;
using KvnDb.Transport;

namespace KvnDb.Router;

/// <summary>
/// The outbound side of one client connection, shared by every thread that answers on it (a client's replies come
/// from many node links). Node links have a <c>NodeSender</c> instead. Writes append under a short lock;
/// <see cref="Flush"/> sends once per batch and never waits. When the peer leaves more than the transport's pause
/// threshold unread (Kestrel's <c>MaxWriteBufferSize</c>, the router's <c>OutputPauseBytes</c>), the flush stays
/// pending: the channel is <see cref="IsBackedUp"/> (its session stops reading the client, <see cref="WhenDrained"/>),
/// and replies that still arrive wait in a <see cref="SpillBuffer"/> instead of the transport, until that flush
/// completes. Past <c>holdLimit</c> bytes spilled the peer is cut off, as Redis does with client-output-buffer-limit.
/// So no lock is held across an await, no node link or other client waits for this one, and one slow reader cannot
/// make the router buffer without bound.
/// </summary>
/// <remarks>
/// <c>canCancelFlush</c>: the transport's writer is a pipe whose pending flush may be cancelled (plain TCP), so a last
/// word can overtake a peer's back-pressure; a TLS stream writer cannot (cancelling its write would cut a TLS record).
/// </remarks>
internal sealed class OutputChannel(PipeWriter writer, Action? onOutputLimit = null, long holdLimit = long.MaxValue, RouterStats? stats = null,
    bool canCancelFlush = false) : IThreadPoolWorkItem
{
    private readonly Lock _lock = new();
    private readonly SpillBuffer _spill = new();
    private bool _closed;
    private bool _lastWord;
    private bool _backedUp;
    private TaskCompletionSource? _drained;
    private Task _pendingFlush = Task.CompletedTask;
    private int _flushQueued;

    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>The peer has not drained the last flush: its session reads no more requests until it has.</summary>
    public bool IsBackedUp => Volatile.Read(ref _backedUp);

    /// <summary>Completes once the channel is no longer backed up (drained, or closed).</summary>
    public Task WhenDrained
    {
        get
        {
            lock (_lock)
                return _drained?.Task ?? Task.CompletedTask;
        }
    }

    /// <summary>The transport flush in flight, if any; it ends when the peer drains or the connection ends, and never faults.</summary>
    public Task PendingFlush
    {
        get
        {
            lock (_lock)
                return _pendingFlush;
        }
    }

    /// <summary>Bytes waiting in the channel itself (spilled while backed up), on top of what the transport holds.</summary>
    public long HeldBytes
    {
        get
        {
            lock (_lock)
                return _spill.Length;
        }
    }

    /// <summary>Where writes go now: the transport, or the spill while a flush is in flight. Caller holds the lock.</summary>
    private IBufferWriter<byte> Target => _backedUp ? _spill : writer;

    /// <summary>Copies a frame as it is, with a new request id.</summary>
    public bool TryForward(in ReadOnlySequence<byte> frame, ulong requestId)
    {
        lock (_lock)
        {
            if (_closed || _lastWord)
                return false;
            var target = Target;
            var length = (int)frame.Length;
            var span = target.GetSpan(length);
            frame.CopyTo(span);
            FrameHeader.WriteRequestId(span, requestId);
            target.Advance(length);
            CheckHoldLocked();
            return true;
        }
    }

    public void WriteStatus(Opcode opcode, ulong requestId, StatusCode status)
    {
        lock (_lock)
        {
            if (_closed || _lastWord)
                return;
            FrameWriter.WriteHeaderOnly(Target, new FrameHeader(0, opcode, FrameFlags.Response, status, requestId));
            CheckHoldLocked();
        }
    }

    public void WriteError(Opcode opcode, ulong requestId, StatusCode status, string message)
    {
        lock (_lock)
        {
            if (_closed || _lastWord)
                return;
            FrameWriter.WriteError(Target, opcode, requestId, status, message);
            CheckHoldLocked();
        }
    }

    public void WriteRaw(Opcode opcode, ulong requestId, ReadOnlySpan<byte> body)
    {
        lock (_lock)
        {
            if (_closed || _lastWord)
                return;
            FrameWriter.WriteRaw(Target, opcode, FrameFlags.Response, StatusCode.Ok, requestId, body);
            CheckHoldLocked();
        }
    }

    /// <summary>Lets a caller write with the raw writer (hello replies, RESP); the action runs under the lock.</summary>
    public void Write<TState>(TState state, Action<IBufferWriter<byte>, TState> write)
    {
        lock (_lock)
        {
            if (_closed || _lastWord)
                return;
            write(Target, state);
            CheckHoldLocked();
        }
    }

    /// <summary>Sends what was written since the last flush; while an earlier flush is in flight, its completion sends it.</summary>
    public void Flush()
    {
        lock (_lock)
        {
            if (_closed || _backedUp || writer.UnflushedBytes == 0)
                return;
            var flush = writer.FlushAsync();
            if (!flush.IsCompleted)
            {
                BeginBackPressureLocked();
                _pendingFlush = AwaitFlushAsync(flush);
            }
            else if (IsGone(flush))
            {
                _closed = true; // the peer is gone: stop buffering for it
            }
        }
    }

    /// <summary>
    /// The connection's last frame (the Closing notice of a stopping router), sent even to a peer whose output is backed
    /// up: what waits in the spill is dropped (those requests are answered by the notice), the transport's pending flush
    /// is cancelled so the notice is queued right behind what the transport already holds, and the channel then takes no
    /// more writes. The peer gets it once it reads what was ahead of it; a peer that does not read in time loses it with
    /// the connection. Bounded: waits at most <paramref name="timeout"/> for a flush it could not cancel.
    /// </summary>
    public async Task SendLastAsync<TState>(TState state, Action<IBufferWriter<byte>, TState> write, TimeSpan timeout)
    {
        Task pending;
        lock (_lock)
        {
            if (_closed)
                return;
            _lastWord = true;
            _spill.Clear();
            if (_backedUp && canCancelFlush)
                writer.CancelPendingFlush();
            pending = _pendingFlush;
        }
        try
        {
            await pending.WaitAsync(timeout).ConfigureAwait(false); // never faults (AwaitFlushAsync)
        }
        catch (TimeoutException)
        {
            // A TLS peer that does not read: the notice cannot go out; the connection closes without it.
        }
        lock (_lock)
        {
            if (_closed || _backedUp)
                return;
            write(writer, state);
            var flush = writer.FlushAsync();
            _pendingFlush = flush.IsCompleted ? Task.CompletedTask : ObserveAsync(flush); // the peer reads it as it drains
            if (flush.IsCompleted)
                _ = IsGone(flush);
        }
    }

    /// <summary>
    /// Queues one <see cref="Flush"/> (to the end of the epoll wake-up, else the pool). With socket work inline a flush sends on
    /// the calling thread: a node link's batch that answers many clients would make all their sends on its I/O thread,
    /// one after another, while its next replies wait; queued, the sends spread over the pool and the link reads on.
    /// </summary>
    public void FlushSoon()
    {
        if (Interlocked.Exchange(ref _flushQueued, 1) == 0 && !WakeBatch.TryDefer(this))
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        // Cleared before the flush: a reply written from here on queues another one, so nothing waits unsent.
        Volatile.Write(ref _flushQueued, 0);
        Flush();
    }

    /// <summary>Stops all further writes; what was flushed is still sent, what was spilled is dropped.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            _spill.Clear();
            EndBackPressureLocked();
        }
    }

    private void BeginBackPressureLocked()
    {
        _backedUp = true;
        _drained ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        stats?.OutputBackedUp();
    }

    private void EndBackPressureLocked()
    {
        if (_backedUp)
        {
            _backedUp = false;
            stats?.OutputDrained();
        }
        _drained?.TrySetResult();
        _drained = null;
    }

    /// <summary>Past the hold limit the peer has left more than the output limit unread: cut it off.</summary>
    private void CheckHoldLocked()
    {
        if (!_backedUp || _spill.Length <= holdLimit)
            return;
        _closed = true;
        _spill.Clear();
        EndBackPressureLocked();
        stats?.OutputLimitCut();
        onOutputLimit?.Invoke();
    }

    /// <summary>Waits for the transport to drain a flush (off every shared loop), then sends what spilled meanwhile.</summary>
    private async Task AwaitFlushAsync(ValueTask<FlushResult> flush)
    {
        bool gone;
        try
        {
            var result = await flush.ConfigureAwait(false);
            gone = result.IsCompleted || (result.IsCanceled && !Volatile.Read(ref _lastWord));
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
            gone = true; // the connection ended (reset, aborted at the output limit, closed)
        }
        lock (_lock)
        {
            if (_lastWord && !_closed && !gone)
            {
                // Cancelled (or drained) for the last word: it goes out behind what the transport holds.
                _spill.Clear();
                EndBackPressureLocked();
                return;
            }
            if (gone || _closed)
            {
                _closed = true;
                _spill.Clear();
                EndBackPressureLocked();
                return;
            }
            _spill.MoveTo(writer);
            if (writer.UnflushedBytes > 0)
            {
                var next = writer.FlushAsync();
                if (!next.IsCompleted)
                {
                    _pendingFlush = AwaitFlushAsync(next); // still backed up: the next completion carries on
                    return;
                }
                if (IsGone(next))
                    _closed = true;
            }
            EndBackPressureLocked();
        }
    }

    /// <summary>Waits out the last flush, whatever becomes of the connection.</summary>
    private static async Task ObserveAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            await flush.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
            // The connection ended before the peer read the last word.
        }
    }

    /// <summary>A flush that completed at once: did the peer go away?</summary>
    private static bool IsGone(ValueTask<FlushResult> flush)
    {
        if (flush.IsCompletedSuccessfully)
            return flush.Result.IsCompleted;
        // Faulted or cancelled: observe it; the connection is gone either way.
        _ = flush.AsTask().Exception;
        return true;
    }
}

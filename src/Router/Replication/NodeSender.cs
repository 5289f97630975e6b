using System.Buffers;
using System.IO.Pipelines;
using KvnDb.Transport;

namespace KvnDb.Router.Replication;

/// <summary>
/// The only writer of one node link (Garnet's <c>AofSyncTask</c> is the model): streams the
/// <see cref="ReplicationLog"/> from the node's own cursor, so live writes and catch-up replay are one
/// path, and sends the link's other frames (reads, sync control, pings) in order with it. Each
/// <see cref="Flush"/> sends everything appended since the last one in one write (cross-client
/// batching). Back-pressure comes from the log: while the node has not drained the last flush, the
/// sender stops copying and the writes wait in the log; a node link is never cut for unread output. Frames that
/// must go out meanwhile (reads, control) wait in a <see cref="SpillBuffer"/>: the transport's writer is never
/// touched while its flush is in flight (a TLS writer would race), and the spill follows once it completes.
/// </summary>
/// <param name="writer">The node link's output.</param>
/// <param name="cursor">The node's position in the log.</param>
/// <param name="log">The replication log it streams.</param>
/// <param name="deferBatchFlush">
/// Socket work runs inline (<c>--inline-io</c>, the epoll engine): a flush sends at once on the calling thread, so the
/// end of each client's batch queues one flush instead (<see cref="FlushBatch"/>: to the end of the epoll wake-up, or
/// the pool), and the writes of many clients still leave in one send per node.
/// </param>
internal sealed class NodeSender(PipeWriter writer, LogCursor cursor, ReplicationLog log, bool deferBatchFlush = false) : IThreadPoolWorkItem
{
    private readonly Lock _lock = new();
    private readonly SpillBuffer _spill = new();
    private bool _closed;
    private bool _flushPending;
    private Task _flushWait = Task.CompletedTask;
    private Action? _onCaughtUp;
    private ulong _holdAt = ulong.MaxValue;
    private int _batchFlushQueued;

    /// <summary>The node has been sent every write up to this sequence.</summary>
    public ulong SentSequence => cursor.Sequence;

    /// <summary>Bytes of the log not yet sent to the node.</summary>
    public long UnsentBytes => Math.Max(0, log.AppendedBytes - cursor.Position);

    public bool IsClosed => Volatile.Read(ref _closed);

    /// <summary>The node has not drained an earlier flush (its link is back-pressured).</summary>
    public bool IsBackPressured => Volatile.Read(ref _flushPending);

    /// <summary>Where frames go now: the transport, or the spill while a flush is in flight. Caller holds the lock.</summary>
    private IBufferWriter<byte> Target => _flushPending ? _spill : writer;

    /// <summary>Sends what the log gained since the last send, then flushes (unless the node is still draining).</summary>
    public void Flush()
    {
        Action? caughtUp;
        lock (_lock)
        {
            if (_closed || _flushPending)
                return;
            cursor.CopyTo(writer, untilSequence: _holdAt);
            caughtUp = TakeCaughtUpSignal();
            FlushLocked();
        }
        if (caughtUp is not null)
            ThreadPool.UnsafeQueueUserWorkItem(static a => a(), caughtUp, preferLocal: false);
    }

    /// <summary>The end of a read batch that appended for this node: flush now, or queue one flush (see the class's parameter).</summary>
    public void FlushBatch()
    {
        if (!deferBatchFlush)
            Flush();
        else if (Interlocked.Exchange(ref _batchFlushQueued, 1) == 0 && !WakeBatch.TryDefer(this))
            ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        // Cleared before the flush: whatever is appended from here on queues another one, so nothing waits unsent.
        Volatile.Write(ref _batchFlushQueued, 0);
        Flush();
    }

    /// <summary>
    /// A read for this node: the log is sent up to now first, so a client's read never overtakes its
    /// own earlier write. Returns false when the link is closed. The caller flushes (end of batch).
    /// </summary>
    public bool TrySendRead(ReadOnlySpan<byte> frame, ulong requestId)
    {
        lock (_lock)
        {
            if (_closed)
                return false;
            var target = Target;
            cursor.CopyTo(target, untilSequence: _holdAt);
            var span = target.GetSpan(frame.Length);
            frame.CopyTo(span);
            KvnDb.Protocol.FrameHeader.WriteRequestId(span, requestId);
            target.Advance(frame.Length);
            return true;
        }
    }

    /// <summary>A frame outside the write stream (sync control, snapshot chunks, pings): no order with the log.</summary>
    public bool TrySend<TState>(TState state, Action<IBufferWriter<byte>, TState> write)
    {
        lock (_lock)
        {
            if (_closed)
                return false;
            write(Target, state);
            return true;
        }
    }

    /// <summary>
    /// A frame that must follow exactly the writes up to <paramref name="sequence"/> (digest, SyncEnd):
    /// the caller holds the sequencer lock, so no write above it exists yet.
    /// </summary>
    public bool TrySendAfter<TState>(ulong sequence, TState state, Action<IBufferWriter<byte>, TState> write)
    {
        lock (_lock)
        {
            if (_closed)
                return false;
            var target = Target;
            cursor.CopyTo(target, untilSequence: Math.Min(sequence, _holdAt));
            write(target, state);
            return true;
        }
    }

    /// <summary>
    /// Sends no write above <paramref name="sequence"/> until <see cref="ReleaseHold"/>: a joiner waits at the
    /// exact position where its donor reads the next snapshot chunk, so it applies the chunk at the state
    /// the chunk describes (caller holds the sequencer lock, so nothing above it was sent yet).
    /// </summary>
    public void HoldAt(ulong sequence)
    {
        lock (_lock)
            _holdAt = sequence;
    }

    public void ReleaseHold()
    {
        lock (_lock)
            _holdAt = ulong.MaxValue;
    }

    /// <summary>Runs <paramref name="callback"/> (on the thread pool) once the node has been sent the whole log.</summary>
    public void WhenCaughtUp(Action callback)
    {
        lock (_lock)
            _onCaughtUp = callback;
        Flush();
    }

    /// <summary>Stops all sending and lets the log evict what this node still held; what was flushed still goes out.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            _spill.Clear();
            _onCaughtUp = null;
            cursor.Close();
        }
    }

    /// <summary>For orderly shutdown and tests: the wait on a back-pressured flush, if any.</summary>
    public Task FlushWait => Volatile.Read(ref _flushWait);

    private Action? TakeCaughtUpSignal()
    {
        if (_onCaughtUp is null || cursor.Sequence < log.NewestSequence)
            return null;
        var callback = _onCaughtUp;
        _onCaughtUp = null;
        return callback;
    }

    private void FlushLocked()
    {
        if (writer.UnflushedBytes == 0)
            return;
        var flush = writer.FlushAsync();
        if (flush.IsCompletedSuccessfully)
        {
            if (flush.Result.IsCompleted)
                CloseLocked(); // the node is gone; its read loop settles what it owed
            return;
        }
        _flushPending = true;
        _flushWait = AwaitFlushAsync(flush);
    }

    private async Task AwaitFlushAsync(ValueTask<FlushResult> flush)
    {
        try
        {
            var result = await flush.ConfigureAwait(false);
            if (result.IsCompleted || result.IsCanceled)
            {
                Close();
                return;
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
            Close(); // the link died; its read loop settles what it owed
            return;
        }
        lock (_lock)
        {
            _flushPending = false;
            if (!_closed)
                _spill.MoveTo(writer); // what waited for the flush goes first, in order
        }
        Flush();
    }

    private void CloseLocked()
    {
        _closed = true;
        _spill.Clear();
        _onCaughtUp = null;
        cursor.Close();
    }
}

using System.Diagnostics;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node.Storage;

public sealed partial class FasterStorageEngine
{
    private const int CheckpointsKept = 2;
    private const int LogCheckpointsPerIndexCheckpoint = 10;
    private static readonly TimeSpan VersionShiftTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeSpan _checkpointInterval;
    private readonly TimeSpan _finalCheckpointTimeout;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationTokenSource _stopping = new();
    private Task _timerTask = Task.CompletedTask;
    private Task _checkpointTask = Task.CompletedTask;
    private long _writesSinceCheckpoint;
    private bool _batchOpen;
    private bool _checkpointDue;
    private bool _checkpointRunning;
    private bool _disposing;
    private int _logCheckpointsSinceIndex;
    private volatile bool _lastCheckpointSucceeded;
    private ulong _lastCheckpointSequence;

    /// <summary>The log's begin when the newest full (index) checkpoint was taken.</summary>
    private long _indexCheckpointBegin;

    /// <summary>Full checkpoints still owed after a compaction, so that both checkpoints kept carry an index newer than it.</summary>
    private int _fullCheckpointsOwed;

    /// <summary>Why the last attempt did not start a checkpoint (no room, a stuck store), or null.</summary>
    private string? _checkpointRefusal;

    /// <summary>
    /// Takes a checkpoint now and waits for it (end of a sync, tests and tools; the engine also checkpoints on
    /// its own). Throws <see cref="StorageUnavailableException"/> when it could not be taken or failed.
    /// </summary>
    public async Task CheckpointAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            await WaitForRunningCheckpointAsync().ConfigureAwait(false);
            Task started;
            lock (_gate)
            {
                ThrowIfDisposed();
                if (!TryStartCheckpoint(force: true))
                {
                    if (_checkpointRunning)
                        continue; // the timer started one meanwhile: wait for it, then take ours
                    throw new StorageUnavailableException($"no checkpoint: {_checkpointRefusal ?? "it could not start"}");
                }
                started = _checkpointTask;
            }
            await started.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!_lastCheckpointSucceeded)
                throw new StorageUnavailableException(_health.LastError);
            return;
        }
    }

    private void StartCheckpointTimer()
    {
        if (_checkpointInterval > TimeSpan.Zero && _checkpointInterval != Timeout.InfiniteTimeSpan)
            _timerTask = RunCheckpointTimerAsync();
    }

    private async Task RunCheckpointTimerAsync()
    {
        using var timer = new PeriodicTimer(_checkpointInterval, _timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                Task running;
                lock (_gate)
                {
                    if (_disposed || _disposing)
                        return;
                    if (_reopening)
                        continue;
                    if (_batchOpen)
                    {
                        // Mid-batch (a multi-set may be half applied): the batch's FlushAsync starts it.
                        _checkpointDue = true;
                        continue;
                    }
                    TryStartCheckpoint(force: false);
                    running = _checkpointTask;
                }
                await running.ConfigureAwait(false);
                if (CompactionDue())
                    await CompactOnScheduleAsync().ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Starts a fold-over checkpoint of the hybrid log; every tenth one, and the final one, is a full
    /// checkpoint that also writes the hash index (grown first if the keys outgrew it), so recovery replays
    /// only the log after it. Called holding the lock and between batches, so the cookie (last sequence,
    /// count) describes exactly what the checkpoint holds: the session is moved past the checkpoint's
    /// version boundary before the lock is released, so no later write lands in it. A checkpoint the disk
    /// cannot hold is not started: the store refuses writes instead (FASTER would wait forever on the
    /// page write that fails).
    /// </summary>
    private bool TryStartCheckpoint(bool force, bool final = false)
    {
        if (_checkpointRunning)
        {
            _checkpointDue = true;
            return false;
        }
        if (!force && _writesSinceCheckpoint == 0)
        {
            _checkpointDue = false;
            return false;
        }
        _checkpointDue = false;
        if (LogStuckReason is { } stuck)
        {
            _checkpointRefusal = stuck;
            return false;
        }
        // After a compaction moved the log's begin, a checkpoint must carry the index: recovering an older index would
        // replay the log from an address whose segment may be gone.
        var begin = _store.Log.BeginAddress;
        var full = final || _logCheckpointsSinceIndex >= LogCheckpointsPerIndexCheckpoint || begin != _indexCheckpointBegin || _fullCheckpointsOwed > 0;
        if (full)
            GrowIndexIfOutgrown();
        if (_checkFreeSpace && !_space.HasRoomForCheckpoint(out var why))
        {
            _checkpointRefusal = why;
            RecordCheckpointFailure($"checkpoint not started: {why}", null);
            _health.Refuse($"the store cannot checkpoint: {why}");
            return false;
        }
        var cookie = new CheckpointCookie(_lastSequence, _count);
        _store.CommitCookie = cookie.ToBytes();
        var walTail = _wal?.TailAddress ?? -1;
        var version = _session.Version;
        Guid token;
        var initiated = false;
        try
        {
            initiated = full
                ? _store.TryInitiateFullCheckpoint(out token, CheckpointType.FoldOver)
                : _store.TryInitiateHybridLogCheckpoint(out token, CheckpointType.FoldOver);
            if (!initiated)
            {
                _checkpointDue = true; // FASTER is busy with another state machine; retry at the next batch or tick
                _checkpointRefusal = "FASTER is still busy with an earlier checkpoint";
                return false;
            }
            var deadline = Environment.TickCount64 + (long)VersionShiftTimeout.TotalMilliseconds;
            var spin = new SpinWait();
            while (_session.Version == version)
            {
                _session.Refresh();
                spin.SpinOnce();
                if (Environment.TickCount64 > deadline)
                    throw new TimeoutException("FASTER checkpoint did not reach its version boundary");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FasterException or TimeoutException)
        {
            // Its files could not even be created (the folder is gone, or not writable).
            _checkpointRefusal = ex.Message;
            RecordCheckpointFailure($"checkpoint could not start: {ex.Message}", ex);
            if (initiated)
                OnStoreStuck($"a checkpoint failed half started ({ex.Message}): FASTER cannot take another one"); // reopened by the probe
            else
                _health.Refuse($"the store cannot checkpoint: {ex.Message}");
            return false;
        }
        _writesSinceCheckpoint = 0;
        _checkpointRunning = true;
        _checkpointRefusal = null;
        _checkpointTask = CompleteCheckpointAsync(token, full ? begin : -1, walTail, cookie, Volatile.Read(ref _checkpointWriteFailures), _logFailure.Token);
        return true;
    }

    /// <summary><paramref name="indexBegin"/>: the log's begin when a full checkpoint started, -1 for a log-only one.</summary>
    private async Task CompleteCheckpointAsync(Guid token, long indexBegin, long walTail, CheckpointCookie cookie, int writeFailuresBefore, CancellationToken logFailed)
    {
        await Task.Yield(); // leave the caller's lock before doing I/O
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            // A failed page write leaves FASTER waiting for it forever: the watched log device cancels the wait.
            await _store.CompleteCheckpointAsync(CancellationToken.None).AsTask().WaitAsync(logFailed).ConfigureAwait(false); // FASTER is not cancelled mid-checkpoint: only our wait is
            if (Volatile.Read(ref _checkpointWriteFailures) != writeFailuresBefore)
            {
                // FASTER only logs a failed index or metadata write: the checkpoint looks whole and is torn. Drop it.
                _checkpointManager.Purge(token);
                throw new IOException($"writing its files failed ({Volatile.Read(ref _lastCheckpointWriteError)}); it was removed");
            }
            if (walTail >= 0)
                _wal?.TruncateUntil(walTail);
            var full = indexBegin >= 0;
            _logCheckpointsSinceIndex = full ? 0 : _logCheckpointsSinceIndex + 1;
            if (full)
            {
                _indexCheckpointBegin = indexBegin;
                _fullCheckpointsOwed = Math.Max(0, _fullCheckpointsOwed - 1);
            }
            PurgeOldCheckpoints();
            _checkpointOrder.Completed(token);
            _lastCheckpointSequence = cookie.LastSequence;
            _lastCheckpointSucceeded = true;
            _health.CheckpointSucceeded();
            LogCheckpointTaken(full ? "full" : "log", cookie.LastSequence, cookie.Count, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds, token);
        }
        catch (Exception ex)
        {
            _lastCheckpointSucceeded = false;
            var why = logFailed.IsCancellationRequested
                ? $"checkpoint {token} cannot complete: {LogStuckReason}"
                : $"checkpoint {token} failed: {ex.Message}";
            RecordCheckpointFailure(why, logFailed.IsCancellationRequested ? null : ex);
            _health.Refuse(why);
        }
        finally
        {
            lock (_gate)
                _checkpointRunning = false;
        }
    }

    /// <summary>
    /// Doubles the hash index while the keys outnumber two per bucket, up to the eighth of the memory budget
    /// it may use, so a store that started small does not end up with long overflow chains. Under the lock,
    /// between batches, with no checkpoint running; the full checkpoint that follows persists the new size.
    /// </summary>
    private void GrowIndexIfOutgrown()
    {
        while (_count > FasterSizing.KeysToGrowAt(_store.IndexSize)
               && _store.IndexSize * 2 * FasterSizing.BucketBytes <= _sizing.MaxIndexBytes
               && (!_checkFreeSpace || _space.Headroom() > 2 * _store.IndexSize * FasterSizing.BucketBytes))
        {
            var before = _store.IndexSize;
            if (!_store.GrowIndex())
                return;
            LogIndexGrown(before * FasterSizing.BucketBytes >> 10, _store.IndexSize * FasterSizing.BucketBytes >> 10, _count);
        }
    }

    private async Task WaitForRunningCheckpointAsync()
    {
        while (true)
        {
            Task running;
            lock (_gate)
            {
                if (!_checkpointRunning)
                    return;
                running = _checkpointTask;
            }
            await running.ConfigureAwait(false);
        }
    }

    /// <summary>Keeps the newest checkpoints so that a torn newest one still leaves a good one behind.</summary>
    private void PurgeOldCheckpoints()
    {
        foreach (var token in _checkpointManager.GetLogCheckpointTokens().Skip(CheckpointsKept).ToList())
            _checkpointManager.Purge(token);
        foreach (var token in _checkpointManager.GetIndexCheckpointTokens().Skip(CheckpointsKept).ToList())
            _checkpointManager.Purge(token);
    }

    private void RecordCheckpointFailure(string why, Exception? exception)
    {
        if (_health.CheckpointFailed(why))
            LogCheckpointFailed(why, exception);
        else
            LogCheckpointFailedAgain(why);
    }

    /// <summary>
    /// Stops the store with a final full checkpoint, bounded by the final-checkpoint timeout. When it cannot be
    /// taken (the disk is full or failed, or it took too long) the reason is logged as an error and kept in
    /// <see cref="StorageHealth.ShutdownFailure"/> (kvndb-node then exits non-zero); the folder still holds the
    /// last good checkpoint, and the write-ahead log when there is one.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposing || _disposed)
                return;
            _disposing = true;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _timerTask.ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        string? failure = null;
        var timedOut = false;
        using (var deadline = new CancellationTokenSource(_finalCheckpointTimeout))
        {
            try
            {
                await WaitForRunningCheckpointAsync().WaitAsync(deadline.Token).ConfigureAwait(false);
                Task final;
                bool started;
                long owed;
                lock (_gate)
                {
                    owed = OwedBytes();
                    started = TryStartCheckpoint(force: true, final: true);
                    final = _checkpointTask;
                }
                if (!started)
                {
                    failure = _checkpointRefusal ?? "it could not start";
                }
                else
                {
                    LogFinalCheckpointStarted(DiskSpace.Describe(owed));
                    await final.WaitAsync(deadline.Token).ConfigureAwait(false);
                    if (!_lastCheckpointSucceeded)
                        failure = _health.LastError;
                }
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                timedOut = true;
                failure = $"it did not finish within {_finalCheckpointTimeout.TotalSeconds:0.#} s";
            }
        }
        lock (_gate)
            _disposed = true;
        // A checkpoint that timed out may still be writing from FASTER's buffers: they stay until the process exits.
        if (!timedOut)
            DisposeResources();
        if (failure is null)
        {
            DeleteWriteAheadLog(); // the final checkpoint holds everything
            _marker.CleanShutdown();
            LogClosed(_lastSequence, _count, clock.ElapsedMilliseconds);
        }
        else
        {
            _health.ShutdownFailed(failure);
            LogClosedWithoutCheckpoint(failure, _lastSequence, _lastCheckpointSequence);
        }
        _health.Dispose();
    }

    /// <summary>
    /// Closes the files without the final checkpoint and without deleting the write-ahead log: what a
    /// crash leaves behind (minus torn writes, which the checkpoint and WAL formats tolerate). Tests use it
    /// where a child process would be overkill.
    /// </summary>
    internal async ValueTask CloseWithoutCheckpointAsync()
    {
        lock (_gate)
        {
            if (_disposing || _disposed)
                return;
            _disposing = true;
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _timerTask.ConfigureAwait(false);
        await WaitForRunningCheckpointAsync().ConfigureAwait(false);
        lock (_gate)
            _disposed = true;
        DisposeResources();
        _health.Dispose();
    }

    private void DisposeResources()
    {
        DisposeStore();
        _stopping.Dispose();
    }

    [LoggerMessage(101, LogLevel.Information, "Checkpoint ({Kind}) taken: last sequence {LastSequence}, {Count} keys, {ElapsedMs:0} ms ({Token})")]
    private partial void LogCheckpointTaken(string kind, ulong lastSequence, long count, double elapsedMs, Guid token);

    [LoggerMessage(102, LogLevel.Information, "Hash index grown from {FromKiB} KiB to {ToKiB} KiB for {Count} keys")]
    private partial void LogIndexGrown(long fromKiB, long toKiB, long count);

    [LoggerMessage(103, LogLevel.Error, "Checkpoint failed: {Reason}")]
    private partial void LogCheckpointFailed(string reason, Exception? exception);

    [LoggerMessage(104, LogLevel.Information, "FASTER store closed with a final checkpoint: last sequence {LastSequence}, {Count} keys ({ElapsedMs} ms)")]
    private partial void LogClosed(ulong lastSequence, long count, long elapsedMs);

    [LoggerMessage(105, LogLevel.Debug, "Checkpoint failed again: {Reason}")]
    private partial void LogCheckpointFailedAgain(string reason);

    [LoggerMessage(106, LogLevel.Information, "Final checkpoint: writing {Bytes} the disk does not hold yet")]
    private partial void LogFinalCheckpointStarted(string bytes);

    [LoggerMessage(107, LogLevel.Error, "FASTER store closed WITHOUT its final checkpoint: {Reason}. It applied up to sequence {LastSequence}; the folder holds the last good checkpoint (sequence {CheckpointSequence}, plus the write-ahead log with --durability fsync), and the router sends the rest when the node is back")]
    private partial void LogClosedWithoutCheckpoint(string reason, ulong lastSequence, ulong checkpointSequence);
}

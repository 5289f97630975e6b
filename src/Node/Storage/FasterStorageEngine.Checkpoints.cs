using FASTER.core;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node.Storage;

public sealed partial class FasterStorageEngine
{
    private const int CheckpointsKept = 2;
    private const int LogCheckpointsPerIndexCheckpoint = 10;
    private static readonly TimeSpan VersionShiftTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeSpan _checkpointInterval;
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

    /// <summary>Takes a checkpoint now and waits for it (tests and tools; the engine also checkpoints on its own).</summary>
    public async Task CheckpointAsync(CancellationToken cancellationToken = default)
    {
        await WaitForRunningCheckpointAsync().ConfigureAwait(false);
        Task started;
        lock (_gate)
        {
            ThrowIfDisposed();
            TryStartCheckpoint(force: true);
            started = _checkpointTask;
        }
        await started.WaitAsync(cancellationToken).ConfigureAwait(false);
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
                if (_logCheckpointsSinceIndex >= LogCheckpointsPerIndexCheckpoint)
                    await TakeIndexCheckpointAsync().ConfigureAwait(false);
                Task running;
                lock (_gate)
                {
                    if (_disposed || _disposing)
                        return;
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
            }
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// Starts a fold-over checkpoint of the hybrid log. Called holding the lock and between batches, so the
    /// cookie (last sequence, count) describes exactly what the checkpoint holds: the session is moved past
    /// the checkpoint's version boundary before the lock is released, so no later write lands in it.
    /// </summary>
    private bool TryStartCheckpoint(bool force)
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
        var cookie = new CheckpointCookie(_lastSequence, _count);
        _store.CommitCookie = cookie.ToBytes();
        var walTail = _wal?.TailAddress ?? -1;
        var version = _session.Version;
        if (!_store.TryInitiateHybridLogCheckpoint(out var token, CheckpointType.FoldOver))
        {
            _checkpointDue = true; // an index checkpoint is running; retry at the next batch or tick
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
        _writesSinceCheckpoint = 0;
        _checkpointDue = false;
        _checkpointRunning = true;
        _checkpointTask = CompleteCheckpointAsync(token, walTail, cookie);
        return true;
    }

    private async Task CompleteCheckpointAsync(Guid token, long walTail, CheckpointCookie cookie)
    {
        await Task.Yield(); // leave the caller's lock before doing I/O
        try
        {
            await _store.CompleteCheckpointAsync().ConfigureAwait(false);
            if (walTail >= 0)
                _wal?.TruncateUntil(walTail);
            _logCheckpointsSinceIndex++;
            _lastCheckpointSucceeded = true;
            PurgeOldCheckpoints();
            _checkpointOrder.Completed(token);
            LogCheckpointTaken(token, cookie.LastSequence, cookie.Count);
        }
        catch (Exception ex)
        {
            _lastCheckpointSucceeded = false;
            LogCheckpointFailed(ex);
        }
        finally
        {
            lock (_gate)
                _checkpointRunning = false;
        }
    }

    /// <summary>An index checkpoint makes recovery start near the log's tail instead of replaying it from the beginning.</summary>
    private async Task TakeIndexCheckpointAsync()
    {
        try
        {
            var (success, token) = await _store.TakeIndexCheckpointAsync().ConfigureAwait(false);
            if (success)
            {
                _logCheckpointsSinceIndex = 0;
                LogIndexCheckpointTaken(token);
            }
        }
        catch (Exception ex)
        {
            LogCheckpointFailed(ex);
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
        await WaitForRunningCheckpointAsync().ConfigureAwait(false);
        await TakeIndexCheckpointAsync().ConfigureAwait(false);
        Task final;
        bool started;
        lock (_gate)
        {
            started = TryStartCheckpoint(force: true);
            final = _checkpointTask;
        }
        await final.ConfigureAwait(false);
        lock (_gate)
            _disposed = true;
        var cleanShutdown = started && _lastCheckpointSucceeded;
        DisposeResources();
        if (cleanShutdown)
        {
            DeleteWriteAheadLog(); // the final checkpoint holds everything
            _marker.CleanShutdown();
        }
        LogClosed(_lastSequence, _count);
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
    }

    private void DisposeResources()
    {
        _session?.Dispose();
        _store.Dispose();
        _wal?.Dispose();
        _wal = null;
        _logDevice.Dispose();
        _checkpointManager.Dispose();
        _stopping.Dispose();
    }

    [LoggerMessage(101, LogLevel.Debug, "Checkpoint {Token} taken: last sequence {LastSequence}, {Count} keys")]
    private partial void LogCheckpointTaken(Guid token, ulong lastSequence, long count);

    [LoggerMessage(102, LogLevel.Debug, "Index checkpoint {Token} taken")]
    private partial void LogIndexCheckpointTaken(Guid token);

    [LoggerMessage(103, LogLevel.Error, "Checkpoint failed")]
    private partial void LogCheckpointFailed(Exception exception);

    [LoggerMessage(104, LogLevel.Information, "FASTER store closed with a final checkpoint: last sequence {LastSequence}, {Count} keys")]
    private partial void LogClosed(ulong lastSequence, long count);
}

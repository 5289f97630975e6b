using Microsoft.Extensions.Logging;

namespace KvnDb.Node.Storage;

/// <summary>
/// What the <c>faster</c> engine does when its disk fails it (docs/storage.md, "When the disk fails").
/// Every FASTER device is watched (<see cref="WatchedDevice"/>). A failed write of a checkpoint file
/// fails that checkpoint, which is then removed (FASTER would leave it torn and looking whole). A failed
/// page write of the hybrid log, or a failed commit of the write-ahead log, leaves this FASTER instance
/// stuck: it never retries the write, so it can flush nothing again and its checkpoint would wait forever.
/// The engine then refuses writes, and once the disk takes writes again <see cref="ProbeStorageAsync"/>
/// reopens the store from its files (the last good checkpoint, then the write-ahead log), as a restart
/// would, and the node catches up from the router.
/// </summary>
public sealed partial class FasterStorageEngine
{
    /// <summary>Room beyond the reserve and what the store owes its disk that a probe wants before writes resume (no flapping at the edge).</summary>
    private const long ProbeHeadroom = 1L << 20;

    private CancellationTokenSource _logFailure = null!; // set by OpenStore
    private string? _logStuck;
    private int _checkpointWriteFailures;
    private string? _lastCheckpointWriteError;
    private bool _reopening;

    /// <summary>Why this FASTER instance can no longer write its log, or null.</summary>
    private string? LogStuckReason => Volatile.Read(ref _logStuck);

    /// <summary>
    /// While writes are refused: reopens a stuck store once the disk has room, then takes a checkpoint, the
    /// proof that the disk takes writes again. True when it did: writes are taken again.
    /// </summary>
    public async ValueTask<bool> ProbeStorageAsync(CancellationToken cancellationToken)
    {
        if (!_health.RefusesWrites)
            return true;
        if (_checkFreeSpace && _health.SampleFreeBytes(now: true) is var free and >= 0
            && free < _health.ReserveBytes + SpaceBudget.CheckpointMargin + ProbeHeadroom)
            return false;
        if (LogStuckReason is not null)
        {
            await ReopenAsync().ConfigureAwait(false);
            if (LogStuckReason is not null)
                return false;
        }
        lock (_gate)
        {
            if (_checkFreeSpace && _space.Headroom() is var headroom and >= 0 && headroom < ProbeHeadroom)
                return false;
        }
        try
        {
            await CheckpointAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (StorageUnavailableException)
        {
            return false; // recorded and logged by the checkpoint
        }
        _health.Restore();
        return true;
    }

    /// <summary>A page write of the hybrid log failed (called on FASTER's I/O thread).</summary>
    private void OnLogWriteFailed(string file, uint errorCode) =>
        OnStoreStuck($"a write to the log file {file} failed: {DescribeWriteError(errorCode)}");

    /// <summary>A write of the write-ahead log failed (called on FASTER's I/O thread).</summary>
    private void OnWalWriteFailed(string file, uint errorCode) =>
        OnStoreStuck($"a write to the write-ahead log {file} failed: {DescribeWriteError(errorCode)}");

    /// <summary>A write of a checkpoint file failed (called on FASTER's I/O thread): the checkpoint in progress fails.</summary>
    private void OnCheckpointWriteFailed(string file, uint errorCode)
    {
        var error = $"{file}: {DescribeWriteError(errorCode)}";
        Volatile.Write(ref _lastCheckpointWriteError, error);
        Interlocked.Increment(ref _checkpointWriteFailures);
        LogCheckpointWriteFailed(error);
    }

    /// <summary>
    /// FASTER's managed device reports most write errors (ENOSPC among them) as "unknown": the free space says
    /// what the error code does not.
    /// </summary>
    private string DescribeWriteError(uint errorCode)
    {
        var free = _health.SampleFreeBytes(now: true);
        var error = errorCode is 0 or uint.MaxValue && free is >= 0 and < SpaceBudget.CheckpointMargin
            ? "no space left on device"
            : DiskSpace.DescribeError(errorCode);
        return $"{error} ({DiskSpace.Describe(free)} free on its file system)";
    }

    private void OnStoreStuck(string why)
    {
        if (Interlocked.CompareExchange(ref _logStuck, why, null) is not null)
            return;
        LogStoreStuck(why);
        _health.Refuse($"{why}; the store is reopened from its last checkpoint once the disk takes writes again");
        // Off FASTER's I/O thread: the waiting checkpoint's continuation takes the engine's lock.
        var failure = _logFailure;
        ThreadPool.UnsafeQueueUserWorkItem(static f =>
        {
            try
            {
                f.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }, failure, preferLocal: false);
    }

    /// <summary>
    /// Closes the stuck FASTER instance and opens the store again from its files, as a restart would: the
    /// last good checkpoint, then the committed write-ahead log. With durability <c>none</c>, what was only in
    /// memory is gone, and the store says it may have lost writes until a sync completes. The node is not
    /// serving meanwhile (it left when writes were refused); the checkpoint timer skips its ticks.
    /// </summary>
    private async Task ReopenAsync()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            _reopening = true;
        }
        try
        {
            await WaitForRunningCheckpointAsync().ConfigureAwait(false); // the stuck one was let go when the write failed
            lock (_gate)
            {
                ThrowIfDisposed();
                LogReopening(LogStuckReason ?? "", _lastSequence, _lastCheckpointSequence);
                DisposeStore();
                Volatile.Write(ref _logStuck, null);
                _writesSinceCheckpoint = 0;
                _batchOpen = false;
                _checkpointDue = false;
                OpenStore();
            }
            Recover();
            _marker.LostWrites();
        }
        catch (Exception ex) when (ex is not ObjectDisposedException)
        {
            OnStoreStuck($"reopening the store failed: {ex.Message}");
        }
        finally
        {
            lock (_gate)
                _reopening = false;
        }
    }

    /// <summary>Disposes the FASTER objects; a stuck instance may throw on the way out, which changes nothing.</summary>
    private void DisposeStore()
    {
        Try(() => _session?.Dispose());
        Try(() => _store?.Dispose());
        Try(() => _wal?.Dispose());
        _wal = null;
        Try(() => _logDevice?.Dispose());
        Try(() => _checkpointManager?.Dispose());
        _logFailure.Dispose();

        void Try(Action dispose)
        {
            try
            {
                dispose();
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                LogDisposeFailed(ex.Message);
            }
        }
    }

    [LoggerMessage(120, LogLevel.Error, "A checkpoint file could not be written: {Error}")]
    private partial void LogCheckpointWriteFailed(string error);

    [LoggerMessage(121, LogLevel.Error, "The store cannot write its log any more: {Reason}. FASTER does not retry a failed write: writes are refused, and the store is reopened once the disk takes writes again")]
    private partial void LogStoreStuck(string reason);

    [LoggerMessage(122, LogLevel.Warning, "Reopening the store ({Reason}): it had applied up to sequence {LastSequence}; recovering its last good checkpoint (sequence {CheckpointSequence}) and write-ahead log; the router sends the rest")]
    private partial void LogReopening(string reason, ulong lastSequence, ulong checkpointSequence);

    [LoggerMessage(123, LogLevel.Warning, "Closing a FASTER object failed: {Reason}")]
    private partial void LogDisposeFailed(string reason);
}

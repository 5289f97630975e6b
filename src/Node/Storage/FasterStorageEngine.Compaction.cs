using System.Diagnostics;
using FASTER.core;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node.Storage;

/// <summary>
/// Compaction of the hybrid log. FASTER appends: an overwrite of a key no longer in memory, a delete (a time
/// mark's included) and a record moved by a sync all leave the old record behind, so without compaction the
/// log on disk only grows. Compaction copies the live records of the log's immutable part to its tail and
/// moves the log's begin past that part; the segment files wholly below the new begin are then deleted.
/// Automatic, like Redis's AOF rewrite: once the log is at least <c>--compact-min-size</c> and has grown
/// <c>--compact-growth</c> percent since the last compaction.
/// </summary>
public sealed partial class FasterStorageEngine
{
    /// <summary>Log compacted per hold of the lock: a write waits for one step at most, never for the whole compaction.</summary>
    private const long CompactionStepBytes = 8L << 20;

    private readonly long _compactMinBytes;
    private readonly int _compactGrowthPercent;
    private long _logBytesAfterCompaction;
    private int _openScans;
    private bool _compacting;

    /// <summary>The hybrid log from its begin to its tail, in bytes: what the store keeps on disk, and what compaction shrinks.</summary>
    public long LogBytes
    {
        get
        {
            lock (_gate)
                return LogSpan;
        }
    }

    private long LogSpan => _store.Log.TailAddress - _store.Log.BeginAddress;

    /// <summary>The size of the log's segment files on disk.</summary>
    public long LogDiskBytes =>
        new DirectoryInfo(Path.Combine(_directory, "hlog")).EnumerateFiles("hlog.log.*").Sum(file => file.Length);

    /// <summary>At open: the log as recovered is the base the growth is measured from, and its begin that of the recovered index.</summary>
    private void NoteCompactedSize()
    {
        lock (_gate)
        {
            _logBytesAfterCompaction = LogSpan;
            _indexCheckpointBegin = _store.Log.BeginAddress;
        }
    }

    private bool CompactionDue()
    {
        if (_compactMinBytes <= 0 || _compactGrowthPercent <= 0)
            return false;
        lock (_gate)
        {
            var size = LogSpan;
            return !_compacting && size >= _compactMinBytes && size >= _logBytesAfterCompaction + _logBytesAfterCompaction / 100 * _compactGrowthPercent;
        }
    }

    /// <summary>
    /// Compacts the immutable part of the log now, then takes two full checkpoints (index and log) so that both
    /// checkpoints kept begin after the compacted part: recovery never needs a deleted segment, even when the
    /// newest checkpoint is torn. Skipped (and said why) while a scan is open: a sync donor's snapshot or a
    /// listing walks the log by address, and compaction moves records.
    /// </summary>
    public async Task<CompactionResult> CompactAsync(CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        long logBefore, target;
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_compacting)
                return CompactionResult.Skipped("a compaction is already running");
            if (_openScans > 0)
                return CompactionResult.Skipped("a scan of the log is open (a sync donor's snapshot, or a listing)");
            _compacting = true;
            logBefore = LogSpan;
            target = _store.Log.SafeReadOnlyAddress;
        }
        var diskBefore = LogDiskBytes;
        try
        {
            LogCompactionStarted(logBefore, diskBefore, target - _store.Log.BeginAddress);
            var stopped = CompactSteps(target, cancellationToken, out var moved);
            await Task.Yield();
            if (moved)
            {
                // Both kept checkpoints must begin after the compacted part, each with its index (see TryStartCheckpoint).
                lock (_gate)
                    _fullCheckpointsOwed = CheckpointsKept;
                await CheckpointAsync(cancellationToken).ConfigureAwait(false);
                await CheckpointAsync(cancellationToken).ConfigureAwait(false);
            }
            long logAfter;
            lock (_gate)
            {
                if (stopped is null)
                    _store.Log.Truncate(); // what the checkpoints did not already give back
                logAfter = LogSpan;
                _logBytesAfterCompaction = logAfter;
            }
            if (stopped is not null)
            {
                LogCompactionAbandoned(stopped);
                return CompactionResult.Skipped(stopped);
            }
            var result = new CompactionResult(logBefore, logAfter, diskBefore, LogDiskBytes, clock.Elapsed);
            LogCompacted(result.LogBytesBefore >> 10, result.LogBytesAfter >> 10, result.DiskBytesBefore >> 10, result.DiskBytesAfter >> 10, (long)result.Took.TotalMilliseconds);
            return result;
        }
        finally
        {
            lock (_gate)
                _compacting = false;
        }
    }

    /// <summary>
    /// Compacts up to <paramref name="target"/> a step at a time, taking the lock for each step only. Returns why it
    /// stopped short, or null; <paramref name="moved"/> tells whether the log's begin moved at all.
    /// </summary>
    private string? CompactSteps(long target, CancellationToken cancellationToken, out bool moved)
    {
        moved = false;
        while (!cancellationToken.IsCancellationRequested)
        {
            lock (_gate)
            {
                ThrowIfDisposed();
                // A scan walks the log by address: it would miss the records moved behind it, and the segments freed under it.
                if (_openScans > 0)
                    return "a scan of the log opened meanwhile";
                var begin = _store.Log.BeginAddress;
                if (begin >= target)
                    return null;
                _session.Compact(Math.Min(target, begin + CompactionStepBytes), CompactionType.Lookup);
                moved = true;
            }
            Thread.Yield(); // the apply loop takes the lock between steps
        }
        return "the store is stopping";
    }

    /// <summary>The checkpoint timer's compaction: a failure is logged (a failed checkpoint already refuses writes), the timer goes on.</summary>
    private async Task CompactOnScheduleAsync()
    {
        try
        {
            await CompactAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FasterException or StorageUnavailableException or IOException)
        {
            LogCompactionFailed(ex.Message, ex);
        }
    }

    [LoggerMessage(114, LogLevel.Information, "Compacting the log ({LogBytes} bytes, {DiskBytes} on disk): {CompactBytes} bytes of it to copy forward or drop")]
    private partial void LogCompactionStarted(long logBytes, long diskBytes, long compactBytes);

    [LoggerMessage(115, LogLevel.Information, "Log compacted in {Milliseconds} ms: {LogKibBefore} KiB -> {LogKibAfter} KiB, on disk {DiskKibBefore} KiB -> {DiskKibAfter} KiB")]
    private partial void LogCompacted(long logKibBefore, long logKibAfter, long diskKibBefore, long diskKibAfter, long milliseconds);

    [LoggerMessage(117, LogLevel.Error, "Log compaction failed: {Reason}")]
    private partial void LogCompactionFailed(string reason, Exception exception);

    [LoggerMessage(116, LogLevel.Information, "Log compaction stopped: {Reason}; the next checkpoint tick tries again")]
    private partial void LogCompactionAbandoned(string reason);
}

using FASTER.core;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node.Storage;

public sealed partial class FasterStorageEngine
{
    /// <summary>
    /// Recovers the newest checkpoint whose metadata reads back whole (FASTER skips torn ones, and we
    /// keep two), then replays the write-ahead log a crash left behind, checkpoints that, and starts a
    /// fresh log when the durability mode wants one.
    /// </summary>
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "VSTHRD002:Avoid problematic synchronous waits", Justification = "Opening an engine is synchronous by design (before the node serves, no synchronization context): it waits for the replayed log's checkpoint")]
    private void Recover()
    {
        var recovered = default(CheckpointCookie);
        _checkpointOrder.RestoreFolderTimes();
        if (_checkpointManager.GetLogCheckpointTokens().Any())
        {
            try
            {
                _store.Recover();
                if (!CheckpointCookie.TryParse(_store.RecoveredCommitCookie, out recovered))
                    LogForeignCheckpoint();
            }
            catch (FasterException ex)
            {
                LogNoUsableCheckpoint(ex.Message);
            }
        }
        _lastSequence = recovered.LastSequence;
        _lastCheckpointSequence = recovered.LastSequence;
        _count = recovered.Count;
        _session = _store.For(FasterFunctions.Instance).NewSession<FasterFunctions>();
        LogRecovered(_directory, _lastSequence, _count, _sizing.ToString());

        var walDirectory = WriteAheadLog.DirectoryOf(_directory);
        if (Directory.Exists(walDirectory))
        {
            var replayed = ReplayWriteAheadLog(walDirectory, recovered.LastSequence);
            LogReplayed(replayed, _lastSequence, _count);
            bool started;
            lock (_gate)
                started = TryStartCheckpoint(force: true);
            _checkpointTask.GetAwaiter().GetResult();
            if (!started || !_lastCheckpointSucceeded)
                throw new StorageUnavailableException($"could not checkpoint the replayed write-ahead log: {_checkpointRefusal ?? _health.LastError}");
            DeleteWriteAheadLog();
        }
        if (_durability == DurabilityMode.Fsync)
            _wal = WriteAheadLog.Open(walDirectory, _sizing.PageBytes, OnWalWriteFailed);
    }

    /// <summary>Applies the committed WAL entries newer than the checkpoint, in log order.</summary>
    private long ReplayWriteAheadLog(string walDirectory, ulong checkpointSequence)
    {
        using var wal = WriteAheadLog.Open(walDirectory, pageBytes: 0);
        var replayed = 0L;
        foreach (var entry in wal.ReadCommitted())
        {
            if (!WalRecord.TryRead(entry, out var kind, out var key, out var sequence, out var value, out var expiresAt))
                throw new InvalidDataException($"unreadable write-ahead-log entry in {walDirectory}");
            if (sequence <= checkpointSequence)
                continue;
            lock (_gate)
            {
                if (kind == WalRecord.SetKind)
                    ApplySet(key, value, sequence, expiresAt, log: false);
                else if (kind == WalRecord.DeleteKind)
                    ApplyDelete(key, sequence, log: false);
                else
                    RecordApplied(sequence);
            }
            replayed++;
        }
        return replayed;
    }

    private void DeleteWriteAheadLog()
    {
        var walDirectory = WriteAheadLog.DirectoryOf(_directory);
        if (Directory.Exists(walDirectory))
            Directory.Delete(walDirectory, recursive: true);
    }

    [LoggerMessage(110, LogLevel.Information, "FASTER store {Directory} opened: recovered last sequence {LastSequence}, {Count} keys ({Sizing})")]
    private partial void LogRecovered(string directory, ulong lastSequence, long count, string sizing);

    [LoggerMessage(111, LogLevel.Information, "Replayed {Records} write-ahead-log records: last sequence {LastSequence}, {Count} keys")]
    private partial void LogReplayed(long records, ulong lastSequence, long count);

    [LoggerMessage(112, LogLevel.Warning, "No usable checkpoint ({Reason}); starting empty")]
    private partial void LogNoUsableCheckpoint(string reason);

    [LoggerMessage(113, LogLevel.Warning, "The recovered checkpoint has no KvnDb cookie; last sequence and count start at 0")]
    private partial void LogForeignCheckpoint();
}

namespace KvnDb.Router;

/// <summary>Router counters, shown by <c>info</c>. Incremented with interlocked adds on the hot path.</summary>
internal sealed class RouterStats
{
    private long _reads;
    private long _writes;
    private long _readRetries;
    private long _errors;
    private long _connectionsAccepted;
    private long _authFailures;
    private long _clients;
    private long _replayedWrites;
    private long _fullSyncs;
    private long _syncsCompleted;
    private long _syncRestarts;
    private long _nodeApplyFailures;
    private long _outputsBackedUp;
    private long _outputLimitCuts;

    /// <summary>Client connections whose unread output passed the pause threshold now: the router is not reading them.</summary>
    public long OutputsBackedUp => Volatile.Read(ref _outputsBackedUp);

    /// <summary>Client connections cut off since the start for leaving more than the output limit unread.</summary>
    public long OutputLimitCuts => Volatile.Read(ref _outputLimitCuts);

    public void OutputBackedUp() => Interlocked.Increment(ref _outputsBackedUp);

    public void OutputDrained() => Interlocked.Decrement(ref _outputsBackedUp);

    public void OutputLimitCut() => Interlocked.Increment(ref _outputLimitCuts);

    /// <summary>Writes (or sync frames) a node answered with an error: each took that node out of the in-sync set.</summary>
    public long NodeApplyFailures => Volatile.Read(ref _nodeApplyFailures);

    public void NodeApplyFailure() => Interlocked.Increment(ref _nodeApplyFailures);

    /// <summary>Full syncs that lost their donor and started again from another.</summary>
    public long SyncRestarts => Volatile.Read(ref _syncRestarts);

    public void SyncRestarted() => Interlocked.Increment(ref _syncRestarts);

    public long ReplayedWrites => Volatile.Read(ref _replayedWrites);

    public long FullSyncs => Volatile.Read(ref _fullSyncs);

    public long SyncsCompleted => Volatile.Read(ref _syncsCompleted);

    public void Replayed(int count) => Interlocked.Add(ref _replayedWrites, count);

    public void FullSyncStarted() => Interlocked.Increment(ref _fullSyncs);

    public void SyncCompleted() => Interlocked.Increment(ref _syncsCompleted);

    public long Reads => Volatile.Read(ref _reads);

    public long Writes => Volatile.Read(ref _writes);

    public long ReadRetries => Volatile.Read(ref _readRetries);

    public long Errors => Volatile.Read(ref _errors);

    public long ConnectionsAccepted => Volatile.Read(ref _connectionsAccepted);

    public long AuthFailures => Volatile.Read(ref _authFailures);

    public long Clients => Volatile.Read(ref _clients);

    public void Read() => Interlocked.Increment(ref _reads);

    public void Write() => Interlocked.Increment(ref _writes);

    public void ReadRetry() => Interlocked.Increment(ref _readRetries);

    public void Error() => Interlocked.Increment(ref _errors);

    public void ConnectionAccepted() => Interlocked.Increment(ref _connectionsAccepted);

    public void AuthFailure() => Interlocked.Increment(ref _authFailures);

    public void ClientConnected() => Interlocked.Increment(ref _clients);

    public void ClientDisconnected() => Interlocked.Decrement(ref _clients);
}

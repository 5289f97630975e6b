using System.Diagnostics.Metrics;
using KvnDb.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KvnDb.Node.Storage;

/// <summary>
/// How an engine's storage is doing: whether it takes writes (a full or failing disk makes it refuse them,
/// as Redis answers MISCONF, until the storage recovers), when the last checkpoint succeeded and how the
/// last one went, the free space of the data folder's file system, and failure counts. The node reads it
/// to leave serving and to know when to come back; the router's <c>info</c> shows it
/// (<see cref="NodeStatusReport"/>); the same numbers are instruments on meter <c>KvnDb.Node</c>.
/// Written from the link loop, the checkpoint task and FASTER's I/O threads: one small lock.
/// </summary>
public sealed partial class StorageHealth : IDisposable
{
    private static readonly TimeSpan FreeSpaceSampleAge = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan RepeatedFailureLogInterval = TimeSpan.FromMinutes(1);

    private readonly Lock _lock = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly Meter _meter = new("KvnDb.Node");
    private string? _refusal;
    private NodeCheckpointState _lastCheckpoint;
    private long _lastCheckpointSucceededAt;
    private string _lastError = "";
    private long _checkpointsFailed;
    private long _writesFailed;
    private long _freeBytes = -1;
    private long _freeSampledAt;
    private long _loudFailureAt;
    private int _version;

    /// <param name="directory">The data folder (null for a memory-only engine: no free space to watch).</param>
    /// <param name="reserveBytes">Space on the data folder's file system the engine leaves free (<c>--reserve-space</c>).</param>
    /// <param name="logger">Where refusing and taking writes again are logged.</param>
    /// <param name="time">The clock of checkpoint ages and free-space samples.</param>
    public StorageHealth(string? directory, long reserveBytes = 0, ILogger? logger = null, TimeProvider? time = null)
    {
        Directory = directory;
        ReserveBytes = reserveBytes;
        _logger = logger ?? NullLogger.Instance;
        _time = time ?? TimeProvider.System;
        _meter.CreateObservableGauge("kvndb.node.storage.refusing_writes", () => RefusesWrites ? 1 : 0,
            description: "1 while the storage refuses writes (disk full or failing) and the node does not serve");
        _meter.CreateObservableGauge("kvndb.node.storage.free_bytes", () => Directory is null ? 0 : SampleFreeBytes(),
            unit: "By", description: "Free space of the data folder's file system");
        _meter.CreateObservableGauge("kvndb.node.checkpoint.age", () => CheckpointAge?.TotalSeconds ?? -1,
            unit: "s", description: "Seconds since the last successful checkpoint (-1: none yet)");
        _meter.CreateObservableCounter("kvndb.node.checkpoint.failures", () => Interlocked.Read(ref _checkpointsFailed),
            description: "Checkpoints that failed or could not start");
        _meter.CreateObservableCounter("kvndb.node.write.failures", () => Interlocked.Read(ref _writesFailed),
            description: "Writes the node was sent and could not apply");
    }

    public string? Directory { get; }

    public long ReserveBytes { get; }

    public bool RefusesWrites => Volatile.Read(ref _refusal) is not null;

    /// <summary>Why writes are refused, or null.</summary>
    public string? Refusal => Volatile.Read(ref _refusal);

    /// <summary>Changes with every change worth reporting (the link sends a new report when it moved).</summary>
    public int Version => Volatile.Read(ref _version);

    public NodeCheckpointState LastCheckpoint
    {
        get
        {
            lock (_lock)
                return _lastCheckpoint;
        }
    }

    /// <summary>Time since the last successful checkpoint; null before the first one.</summary>
    public TimeSpan? CheckpointAge
    {
        get
        {
            var at = Interlocked.Read(ref _lastCheckpointSucceededAt);
            return at == 0 ? null : _time.GetElapsedTime(at);
        }
    }

    /// <summary>The last storage error (checkpoint, write, device), or empty.</summary>
    public string LastError
    {
        get
        {
            lock (_lock)
                return _lastError;
        }
    }

    public long CheckpointsFailed => Interlocked.Read(ref _checkpointsFailed);

    public long WritesFailed => Interlocked.Read(ref _writesFailed);

    /// <summary>Set when the engine closed without the final checkpoint it owed: the process should exit non-zero.</summary>
    public string? ShutdownFailure { get; private set; }

    /// <summary>Starts refusing writes (logged once per episode). Returns true when this call started it.</summary>
    public bool Refuse(string reason)
    {
        lock (_lock)
        {
            _lastError = reason;
            _version++;
            if (_refusal is not null)
                return false;
            Volatile.Write(ref _refusal, reason);
        }
        LogRefusing(reason);
        return true;
    }

    /// <summary>The storage takes writes again (after a successful probe).</summary>
    public void Restore()
    {
        string? was;
        lock (_lock)
        {
            was = _refusal;
            Volatile.Write(ref _refusal, null);
            _version++;
        }
        if (was is not null)
            LogRestored(was);
    }

    public void CheckpointSucceeded()
    {
        lock (_lock)
        {
            _lastCheckpoint = NodeCheckpointState.Ok;
            Interlocked.Exchange(ref _lastCheckpointSucceededAt, _time.GetTimestamp());
            _version++;
        }
    }

    /// <summary>
    /// Records a failed (or refused) checkpoint. True when it deserves an error line: the first failure after
    /// a success, then one a minute while they go on (callers log the others quietly: a probe retries every second).
    /// </summary>
    public bool CheckpointFailed(string reason)
    {
        Interlocked.Increment(ref _checkpointsFailed);
        lock (_lock)
        {
            var loud = _lastCheckpoint != NodeCheckpointState.Failed || _loudFailureAt == 0 || _time.GetElapsedTime(_loudFailureAt) >= RepeatedFailureLogInterval;
            if (loud)
                _loudFailureAt = _time.GetTimestamp();
            _lastCheckpoint = NodeCheckpointState.Failed;
            _lastError = reason;
            _version++;
            return loud;
        }
    }

    /// <summary>A write the node was sent could not be applied (counted; the node leaves serving).</summary>
    public void WriteFailed(string reason)
    {
        Interlocked.Increment(ref _writesFailed);
        lock (_lock)
        {
            _lastError = reason;
            _version++;
        }
    }

    public void ShutdownFailed(string reason) => ShutdownFailure = reason;

    /// <summary>Free bytes of the data folder's file system, looked up at most once a second; -1 when unknown.</summary>
    public long SampleFreeBytes(bool now = false)
    {
        if (Directory is null)
            return -1;
        var sampledAt = Interlocked.Read(ref _freeSampledAt);
        if (!now && sampledAt != 0 && _time.GetElapsedTime(sampledAt) < FreeSpaceSampleAge)
            return Interlocked.Read(ref _freeBytes);
        var free = DiskSpace.FreeBytes(Directory);
        Interlocked.Exchange(ref _freeBytes, free);
        Interlocked.Exchange(ref _freeSampledAt, _time.GetTimestamp());
        return free;
    }

    /// <summary>
    /// The default probe of engines without checkpoints: the file system has room beyond the reserve
    /// (at least 1 MiB) again. True when writes are taken (again).
    /// </summary>
    public bool TryRestoreByFreeSpace()
    {
        if (!RefusesWrites)
            return true;
        var free = SampleFreeBytes(now: true);
        if (free >= 0 && free < ReserveBytes + (1L << 20))
            return false;
        Restore();
        return true;
    }

    /// <summary>What the node tells the router (<see cref="Opcode.NodeStatus"/>).</summary>
    public NodeStatusReport Report()
    {
        var free = SampleFreeBytes();
        var age = CheckpointAge;
        lock (_lock)
        {
            return new NodeStatusReport(
                _refusal is null ? NodeStorageState.Ok : NodeStorageState.RefusingWrites,
                _lastCheckpoint,
                age is { } a ? (ulong)a.TotalMilliseconds : NodeStatusReport.Unknown,
                free < 0 ? NodeStatusReport.Unknown : (ulong)free,
                (ulong)_checkpointsFailed,
                (ulong)_writesFailed,
                _refusal ?? (_lastCheckpoint == NodeCheckpointState.Failed ? _lastError : ""));
        }
    }

    public void Dispose() => _meter.Dispose();

    [LoggerMessage(130, LogLevel.Error, "Storage refuses writes from now on (the node leaves serving until it recovers): {Reason}")]
    private partial void LogRefusing(string reason);

    [LoggerMessage(131, LogLevel.Information, "Storage takes writes again (it refused them: {Reason})")]
    private partial void LogRestored(string reason);
}

using FASTER.core;
using Microsoft.Extensions.Logging;

namespace KvnDb.Node.Storage;

/// <summary>
/// The default engine: a FASTER <c>FasterKV&lt;SpanByte, SpanByte&gt;</c> whose hybrid log lives under
/// <c>--data</c>. Values are stored as <c>[u64 sequence][value]</c>. One FASTER session, reused for every
/// call (calls are sequential; a lock keeps the checkpoint timer off the session while it is in use).
/// Periodic CPR checkpoints plus one at dispose; recovery to the newest readable checkpoint at open;
/// with <see cref="DurabilityMode.Fsync"/>, a write-ahead log committed once per <see cref="FlushAsync"/>.
/// See docs/storage.md for the guarantees.
/// </summary>
public sealed partial class FasterStorageEngine : IStorageEngine
{
    private const int InitialScratchSize = 64 << 10;
    private const int ScratchKeepSize = 4 << 20;

    private readonly Lock _gate = new();
    private readonly string _directory;
    private readonly string _checkpointsDirectory;
    private readonly FasterSizing _sizing;
    private readonly DurabilityMode _durability;
    private readonly ILogger _logger;
    private readonly CheckpointOrder _checkpointOrder;
    private readonly RunningMarker _marker;
    private readonly StorageHealth _health;
    private readonly SpaceBudget _space;
    private readonly bool _checkFreeSpace;
    private readonly long _segmentBytes;

    // The FASTER objects: opened together, and replaced together when a store whose disk failed is reopened (Faults).
    private WatchedDevice _logDevice = null!;
    private DeviceLogCommitCheckpointManager _checkpointManager = null!;
    private FasterKV<SpanByte, SpanByte> _store = null!;
    private ClientSession<SpanByte, SpanByte, SpanByte, FasterReadOutput, Empty, FasterFunctions> _session = null!; // created after recovery
    private WriteAheadLog? _wal;

    /// <summary>Pinned buffer holding the WAL entry of the current write; its tail is the stored value.</summary>
    private byte[] _scratch = GC.AllocateUninitializedArray<byte>(InitialScratchSize, pinned: true);
    private ulong _lastSequence;
    private long _count;
    private bool _disposed;

    private FasterStorageEngine(string directory, StorageOptions options, ILogger logger)
    {
        _directory = directory;
        _durability = options.Durability;
        _logger = logger;
        _sizing = FasterSizing.FromBudget(options.MemoryBytes, options.Durability == DurabilityMode.Fsync, options.ExpectedKeys);
        Directory.CreateDirectory(directory);
        _checkpointsDirectory = Path.Combine(directory, "checkpoints");
        Directory.CreateDirectory(_checkpointsDirectory);
        _checkpointOrder = new CheckpointOrder(_checkpointsDirectory);
        _health = new StorageHealth(directory, options.ReserveBytes, logger, options.TimeProvider);
        _space = new SpaceBudget(_health, OwedBytes, options.TimeProvider);
        _checkFreeSpace = options.CheckFreeSpace;
        _checkpointInterval = options.CheckpointInterval;
        _finalCheckpointTimeout = options.FinalCheckpointTimeout;
        _marker = new RunningMarker(directory, options.Durability);
        _timeProvider = options.TimeProvider;
        _segmentBytes = options.LogSegmentBytes;
        if (_segmentBytes < _sizing.PageBytes || !long.IsPow2(_segmentBytes))
            throw new ArgumentException($"the log segment size must be a power of two of at least the page size ({_sizing.PageBytes} bytes); got {_segmentBytes}");
        _compactMinBytes = options.CompactMinBytes;
        _compactGrowthPercent = options.CompactGrowthPercent;
        OpenStore();
    }

    /// <summary>The hybrid log's device, the checkpoint manager and the store, every device watched for failed writes.</summary>
    private void OpenStore()
    {
        _logFailure = new CancellationTokenSource();
        _logDevice = new WatchedDevice(Devices.CreateLogDevice(Path.Combine(_directory, "hlog", "hlog.log"), recoverDevice: true), OnLogWriteFailed);
        _checkpointManager = new DeviceLogCommitCheckpointManager(
            new WatchedDeviceFactory(new LocalStorageNamedDeviceFactory(), OnCheckpointWriteFailed),
            new DefaultCheckpointNamingScheme(_checkpointsDirectory), removeOutdated: false);
        _store = new FasterKV<SpanByte, SpanByte>(new FasterKVSettings<SpanByte, SpanByte>
        {
            IndexSize = _sizing.IndexBytes, // a recovered index keeps the size it was checkpointed with (it may have grown)
            LogDevice = _logDevice,
            PageSize = _sizing.PageBytes,
            SegmentSize = _segmentBytes,
            MemorySize = _sizing.LogMemoryBytes,
            MutableFraction = 0.9,
            CheckpointManager = _checkpointManager,
            RemoveOutdatedCheckpoints = false, // we keep the newest two, so a torn newest one has a fallback
            ReadCopyOptions = new ReadCopyOptions(ReadCopyFrom.None, ReadCopyTo.None), // reads never move records (listing relies on it)
            ConcurrencyControlMode = ConcurrencyControlMode.None, // one session does every operation
            EqualityComparer = FasterKeyComparer.Instance,
        });
    }

    /// <summary>Opens (recovering if there is data) the store in <paramref name="directory"/>.</summary>
    public static FasterStorageEngine Open(string directory, StorageOptions options, ILogger logger)
    {
        var engine = new FasterStorageEngine(directory, options, logger);
        try
        {
            engine.Recover();
            engine._marker.Open();
            engine.NoteCompactedSize();
            engine.RefuseWritesIfDiskFull();
            engine.StartCheckpointTimer();
            return engine;
        }
        catch
        {
            engine.DisposeResources();
            engine._health.Dispose();
            throw;
        }
    }

    /// <summary>A node opened on a full disk refuses writes from the start, instead of joining and failing the first one.</summary>
    private void RefuseWritesIfDiskFull()
    {
        lock (_gate)
        {
            if (_checkFreeSpace && !_space.TryTake(0, out var why, out _))
                _health.Refuse(why!);
        }
    }

    public string Name => "faster";

    public ulong LastSequence => Volatile.Read(ref _lastSequence);

    public long Count => Volatile.Read(ref _count);

    public bool MayHaveLostWrites => _marker.MayHaveLostWrites;

    /// <summary>A record must fit in one hybrid-log page: the page size (from <c>--memory</c>) minus the record's overhead.</summary>
    public long MaxRecordSize => _sizing.MaxRecordPayload;

    public StorageHealth Health => _health;

    public void ConfirmSynced() => _marker.ConfirmSynced();

    /// <summary>Memory split chosen from the budget (for logs and tests).</summary>
    internal FasterSizing Sizing => _sizing;

    /// <summary>The hash index's size now (it grows with the keys): what an index checkpoint writes, before overflow buckets.</summary>
    internal long IndexBytes
    {
        get
        {
            lock (_gate)
                return _store.IndexSize * FasterSizing.BucketBytes;
        }
    }

    public bool TryGet(ReadOnlySpan<byte> key, out StoredValue value)
    {
        var output = new FasterReadOutput { CopyValue = true };
        lock (_gate)
        {
            ThrowIfDisposed();
            if (!ReadCore(key, ref output, out _))
            {
                value = default;
                return false;
            }
        }
        var buffer = output.Value!;
        value = new StoredValue(buffer.Memory, output.Sequence, buffer, output.ExpiresAt);
        return true;
    }

    public bool TryGetMetadata(ReadOnlySpan<byte> key, out ulong sequence, out long expiresAt)
    {
        var probe = default(FasterReadOutput);
        lock (_gate)
        {
            ThrowIfDisposed();
            var found = ReadCore(key, ref probe, out _);
            sequence = found ? probe.Sequence : 0;
            expiresAt = found ? probe.ExpiresAt : 0;
            return found;
        }
    }

    public bool Exists(ReadOnlySpan<byte> key)
    {
        var output = default(FasterReadOutput);
        lock (_gate)
        {
            ThrowIfDisposed();
            return ReadCore(key, ref output, out _);
        }
    }

    public bool Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence) => Set(key, value, sequence, 0);

    public bool Set(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, long expiresAt)
    {
        CheckRecordSize(key, value, expiresAt);
        lock (_gate)
        {
            ThrowIfDisposed();
            return ApplySet(key, value, sequence, expiresAt, log: true);
        }
    }

    /// <summary>An expiry takes 8 bytes of the record besides the sequence.</summary>
    private void CheckRecordSize(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expiresAt)
    {
        var payload = (long)key.Length + value.Length + StoredLayout.HeaderSize(expiresAt) - StoredLayout.SequenceSize;
        if (payload > _sizing.MaxRecordPayload)
            throw new ArgumentException($"key and value of {key.Length + value.Length} bytes exceed the faster engine's record limit of {_sizing.MaxRecordPayload} bytes (raise --memory for larger pages)");
    }

    public bool Delete(ReadOnlySpan<byte> key, ulong sequence)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return ApplyDelete(key, sequence, log: true);
        }
    }

    /// <summary>Refuses a write up front when the storage refuses writes or the disk could not hold it (<see cref="SpaceBudget"/>).</summary>
    public void EnsureWritable(long bytes, long largestRecord)
    {
        if (largestRecord > _sizing.MaxRecordPayload)
            throw new ArgumentException($"key and value of {largestRecord} bytes exceed the faster engine's record limit of {_sizing.MaxRecordPayload} bytes (raise --memory for larger pages)");
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_health.Refusal is { } why)
                throw new StorageUnavailableException(why);
            // The record lands in the hybrid log, and in the write-ahead log too when there is one.
            var cost = (bytes + FasterSizing.RecordOverhead) * (_wal is null ? 1 : 2);
            if (!_checkFreeSpace)
                return;
            if (!_space.TryTake(cost, out why, out var flushSoon))
            {
                _health.Refuse(why!);
                throw new StorageUnavailableException(why!);
            }
            if (flushSoon)
                _checkpointDue = true; // the store owes the disk much of its room: the batch's FlushAsync starts a checkpoint
        }
    }

    public async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        WriteAheadLog? wal;
        lock (_gate)
        {
            ThrowIfDisposed();
            _batchOpen = false;
            if (_checkpointDue)
                TryStartCheckpoint(force: false);
            wal = _wal is { HasUncommitted: true } ? _wal : null;
        }
        if (wal is null)
            return;
        try
        {
            await wal.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // FasterLog keeps a failed commit as its answer to every later one: the store must be reopened.
            var why = $"the write-ahead log could not be committed: {ex.Message}";
            OnStoreStuck(why);
            throw new StorageUnavailableException(why);
        }
    }

    /// <summary>
    /// Bytes the store owes its disk: log records only in memory (above the read-only mark: the next fold-over
    /// writes them) and the next index checkpoint (the index with its overflow buckets). Caller holds the lock.
    /// </summary>
    private long OwedBytes() =>
        Math.Max(0, _store.Log.TailAddress - _store.Log.SafeReadOnlyAddress) + IndexCheckpointBytes;

    private long IndexCheckpointBytes => (_store.IndexSize + _store.OverflowBucketCount) * FasterSizing.BucketBytes;

    /// <summary>Stores the record (<see cref="StoredLayout"/>) for the key, keeps the count, and appends to the WAL when asked.</summary>
    /// <returns>Whether the key is new.</returns>
    private unsafe bool ApplySet(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong sequence, long expiresAt, bool log)
    {
        var existence = default(FasterReadOutput);
        var existed = ReadCore(key, ref existence, out _);
        var size = WalRecord.Size(key.Length, value.Length, expiresAt);
        var scratch = Scratch(size);
        var valueOffset = WalRecord.Write(scratch, WalRecord.SetKind, key, sequence, value, expiresAt);
        if (log)
            AppendToWal(scratch.AsSpan(0, size));
        fixed (byte* keyPointer = key)
        fixed (byte* entryPointer = scratch)
        {
            var storedKey = SpanByte.FromPointer(keyPointer, key.Length);
            var storedValue = SpanByte.FromPointer(entryPointer + valueOffset, size - valueOffset);
            _session.Upsert(ref storedKey, ref storedValue);
        }
        if (!existed)
            _count++;
        RecordApplied(sequence);
        ReleaseLargeScratch();
        return !existed;
    }

    private unsafe bool ApplyDelete(ReadOnlySpan<byte> key, ulong sequence, bool log)
    {
        var existence = default(FasterReadOutput);
        var existed = ReadCore(key, ref existence, out _);
        if (log)
        {
            var size = WalRecord.Size(key.Length, 0);
            var scratch = Scratch(size);
            WalRecord.Write(scratch, WalRecord.DeleteKind, key, sequence, default);
            AppendToWal(scratch.AsSpan(0, size));
        }
        if (existed)
        {
            fixed (byte* keyPointer = key)
            {
                var storedKey = SpanByte.FromPointer(keyPointer, key.Length);
                _session.Delete(ref storedKey);
            }
            _count--;
        }
        RecordApplied(sequence);
        return existed;
    }

    /// <summary>Reads the key's latest live record; waits for the disk when it is not in memory.</summary>
    private unsafe bool ReadCore(ReadOnlySpan<byte> key, ref FasterReadOutput output, out long address)
    {
        fixed (byte* keyPointer = key)
        {
            var storedKey = SpanByte.FromPointer(keyPointer, key.Length);
            return ReadCore(ref storedKey, ref output, out address);
        }
    }

    private bool ReadCore(ref SpanByte key, ref FasterReadOutput output, out long address)
    {
        var input = default(SpanByte);
        var options = default(ReadOptions);
        var status = _session.Read(ref key, ref input, ref output, ref options, out _);
        if (status.IsPending)
        {
            _session.CompletePendingWithOutputs(out var completed, wait: true);
            using (completed)
            {
                if (!completed.Next())
                    throw new InvalidOperationException("FASTER completed a pending read without an output");
                ref var result = ref completed.Current;
                output = result.Output;
                status = result.Status;
            }
        }
        // The address comes from our reader callback: for a read that went to disk through other keys'
        // records, FASTER's RecordMetadata reports the chain's first address, not the record found.
        address = status.Found ? output.Address : -1;
        return status.Found;
    }

    private void AppendToWal(ReadOnlySpan<byte> entry)
    {
        _wal?.Append(entry);
    }

    private void RecordApplied(ulong sequence)
    {
        if (sequence > _lastSequence)
            Volatile.Write(ref _lastSequence, sequence);
        _writesSinceCheckpoint++;
        _batchOpen = true;
    }

    private byte[] Scratch(int size)
    {
        if (_scratch.Length < size)
            _scratch = GC.AllocateUninitializedArray<byte>((int)Math.Min(Array.MaxLength, Math.Max(size, 2L * _scratch.Length)), pinned: true);
        return _scratch;
    }

    /// <summary>A single huge value should not pin megabytes for the life of the node.</summary>
    private void ReleaseLargeScratch()
    {
        if (_scratch.Length > ScratchKeepSize)
            _scratch = GC.AllocateUninitializedArray<byte>(InitialScratchSize, pinned: true);
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}

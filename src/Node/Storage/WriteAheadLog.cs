using FASTER.core;

namespace KvnDb.Node.Storage;

/// <summary>
/// The <c>faster</c> engine's write-ahead log: a FasterLog under <c>DATA/wal</c>, appended once per
/// write and committed once per batch (group commit), replayed after the checkpoint at start and
/// truncated once a checkpoint covers it, as Garnet's AOF does. FASTER's local devices open files
/// with write-through, so a completed commit is on disk.
/// </summary>
internal sealed class WriteAheadLog : IDisposable
{
    private readonly IDevice _device;
    private readonly FasterLog _log;
    private long _committedTail;

    private WriteAheadLog(IDevice device, FasterLog log)
    {
        _device = device;
        _log = log;
        _committedTail = log.TailAddress;
    }

    public static string DirectoryOf(string dataDirectory) => Path.Combine(dataDirectory, "wal");

    /// <summary>
    /// Opens (and recovers to its last commit) the log in <paramref name="directory"/>; a torn tail after the
    /// last commit is ignored. A new log records its page size; <paramref name="pageBytes"/> 0 reopens an
    /// existing log with the page size it was written with (the budget may have changed since).
    /// <paramref name="onWriteFailed"/> hears of every write to the log that failed (a failed commit throws too).
    /// </summary>
    public static WriteAheadLog Open(string directory, long pageBytes, Action<string, uint>? onWriteFailed = null)
    {
        Directory.CreateDirectory(directory);
        var pageSizeFile = Path.Combine(directory, "page-size");
        if (pageBytes == 0)
        {
            if (!File.Exists(pageSizeFile) || !long.TryParse(File.ReadAllText(pageSizeFile), out pageBytes) || pageBytes <= 0)
                throw new InvalidDataException($"write-ahead log in {directory} has no readable page-size file");
        }
        else
        {
            File.WriteAllText(pageSizeFile, pageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        var device = Devices.CreateLogDevice(Path.Combine(directory, "wal.log"), recoverDevice: true);
        if (onWriteFailed is not null)
            device = new WatchedDevice(device, onWriteFailed);
        try
        {
            var log = new FasterLog(new FasterLogSettings
            {
                LogDevice = device,
                LogCommitDir = directory,
                PageSize = pageBytes,
                MemorySize = 2 * pageBytes,
                SegmentSize = 1L << 28,
                LogChecksum = LogChecksumType.PerEntry,
            });
            return new WriteAheadLog(device, log);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    public long TailAddress => _log.TailAddress;

    /// <summary>True when entries were appended since the last commit.</summary>
    public bool HasUncommitted => _log.TailAddress > Volatile.Read(ref _committedTail);

    public void Append(ReadOnlySpan<byte> entry) => _log.Enqueue(entry);

    /// <summary>Completes once everything appended so far is on disk.</summary>
    public async ValueTask CommitAsync(CancellationToken cancellationToken)
    {
        var tail = _log.TailAddress;
        await _log.CommitAsync(cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _committedTail, tail);
    }

    /// <summary>Drops entries before <paramref name="address"/> (covered by a checkpoint); takes effect at the next commit.</summary>
    public void TruncateUntil(long address) => _log.TruncateUntil(address);

    /// <summary>Committed entries, oldest first (recovery only: allocates per entry).</summary>
    public IEnumerable<byte[]> ReadCommitted()
    {
        using var iterator = _log.Scan(_log.BeginAddress, _log.CommittedUntilAddress);
        while (iterator.GetNext(out var entry, out var length, out _))
            yield return length == entry.Length ? entry : entry[..length];
    }

    public void Dispose()
    {
        _log.Dispose();
        _device.Dispose();
    }
}

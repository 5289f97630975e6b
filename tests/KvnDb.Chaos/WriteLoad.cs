using System.Diagnostics;
using KvnDb.Client;
using KvnDb.Testing;

namespace KvnDb.Chaos;

/// <summary>
/// The writers: each owns its keys (so a key's writes never overlap), sets or deletes them at random and records
/// every attempt and its outcome in the ledger. After a failed write a writer waits until the router reports a
/// serving node again. Tracks the longest gap between acknowledgements (the write stall).
/// </summary>
internal sealed class WriteLoad(ChaosCluster cluster, KeyLedger ledger, ChaosOptions options, Stopwatch clock)
{
    private readonly Lock _stallLock = new();
    private readonly Stopwatch _clock = clock;
    private TimeSpan _lastAcknowledged;
    private TimeSpan _stallSinceTaken;
    private TimeSpan _stallSinceTakenStart;
    private long _failed;
    private TaskCompletionSource<TimeSpan>? _resumed;
    private TimeSpan _resumeMark;
    private Task[] _writers = [];

    public AwaitableCounter Acknowledged { get; } = new();

    public long Failed => Interlocked.Read(ref _failed);

    public TimeSpan LongestStall { get; private set; }

    public void Start(CancellationToken stop)
    {
        _lastAcknowledged = _clock.Elapsed;
        _writers = [.. Enumerable.Range(0, options.Writers).Select(w => Task.Run(() => WriteAsync(w, stop)))];
        Acknowledged.Observe(_writers);
    }

    public Task StopAsync() => Task.WhenAll(_writers);

    /// <summary>The longest gap between two acknowledgements since the last call (including one still open now) and when it began, on the load's clock.</summary>
    public (TimeSpan Length, TimeSpan Start) TakeStall()
    {
        lock (_stallLock)
        {
            var open = _clock.Elapsed - _lastAcknowledged;
            var stall = open > _stallSinceTaken ? (open, _lastAcknowledged) : (_stallSinceTaken, _stallSinceTakenStart);
            _stallSinceTaken = TimeSpan.Zero;
            return stall;
        }
    }

    /// <summary>
    /// Completes with the time (on the load's clock) of the first acknowledgement of a write begun after this call: when
    /// writes resumed after a failover (an acknowledgement of a write sent before it may be the old leader's last).
    /// </summary>
    public Task<TimeSpan> FirstAcknowledgedFromNowAsync()
    {
        lock (_stallLock)
        {
            _resumeMark = _clock.Elapsed;
            _resumed?.TrySetCanceled();
            _resumed = new TaskCompletionSource<TimeSpan>(TaskCreationOptions.RunContinuationsAsynchronously);
            return _resumed.Task;
        }
    }

    private async Task WriteAsync(int writer, CancellationToken stop)
    {
        var random = new Random(options.Seed + writer);
        var perWriter = Math.Max(1, options.Keys / options.Writers);
        for (var n = 0; !stop.IsCancellationRequested; n++)
        {
            var key = $"w{writer}-k{random.Next(perWriter)}";
            var value = random.Next(6) == 0 ? null : $"{writer}-{n}";
            var write = ledger.Begin(key, value);
            var started = _clock.Elapsed;
            try
            {
                // A write in flight runs to its outcome (the ledger records it); stop is checked between writes.
                if (value is null)
                    await cluster.Client.DeleteAsync(key, cancellationToken: CancellationToken.None);
                else
                    await cluster.Client.SetAsync(key, value, cancellationToken: CancellationToken.None);
                ledger.Acknowledged(key, write);
                NoteAcknowledged(started);
            }
            catch (KvnDbException)
            {
                ledger.Unknown(key, write);
                Interlocked.Increment(ref _failed);
                // Router down or no node serving: the next write waits until a node serves again.
                await cluster.WaitForServingAsync(TimeSpan.FromSeconds(30), count: 1, stop);
            }
        }
    }

    private void NoteAcknowledged(TimeSpan started)
    {
        lock (_stallLock)
        {
            var now = _clock.Elapsed;
            if (_resumed is { } resumed && started >= _resumeMark)
            {
                resumed.TrySetResult(now);
                _resumed = null;
            }
            var gap = now - _lastAcknowledged;
            if (gap > _stallSinceTaken)
                (_stallSinceTaken, _stallSinceTakenStart) = (gap, _lastAcknowledged);
            LongestStall = Max(LongestStall, gap);
            _lastAcknowledged = now;
        }
        Acknowledged.Increment();
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

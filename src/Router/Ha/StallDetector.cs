using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace KvnDb.Router.Ha;

/// <summary>
/// Notices that this process did not run for a while (SIGSTOP, a paused VM, a long GC pause), so that the leader lease is
/// not trusted across it. DotNext expires the lease with a timer: after a pause longer than the lease the timer fires
/// late, and an I/O thread that wakes first could acknowledge a write on a lease that in truth ran out while a later term
/// was elected. A dedicated thread ticks every few milliseconds; the lease counts only while its last tick is recent, and
/// not at all for <c>distrustFor</c> after a gap in its ticks (by then DotNext's own timer has expired the stale lease,
/// and a lease held again was renewed by a majority after the pause).
/// </summary>
internal sealed partial class StallDetector : IDisposable
{
    private static readonly TimeSpan TickInterval = TimeSpan.FromMilliseconds(5);
    private readonly long _stallLimit;
    private readonly long _distrustFor;
    private readonly ILogger _logger;
    private readonly Thread _thread;
    private long _lastTick = Stopwatch.GetTimestamp();
    private long _distrustUntil;
    private long _stalls;
    private volatile bool _stopping;

    /// <param name="stallLimit">A gap in the ticks this long counts as a stall (well below the lease's margin).</param>
    /// <param name="distrustFor">How long after a stall the lease is not trusted.</param>
    /// <param name="logger">Where stalls are reported.</param>
    public StallDetector(TimeSpan stallLimit, TimeSpan distrustFor, ILogger logger)
    {
        _stallLimit = (long)(stallLimit.TotalSeconds * Stopwatch.Frequency);
        _distrustFor = (long)(distrustFor.TotalSeconds * Stopwatch.Frequency);
        _logger = logger;
        _thread = new Thread(Run) { IsBackground = true, Name = "kvndb-stall-detector", Priority = ThreadPriority.AboveNormal };
        _thread.Start();
    }

    /// <summary>Stalls seen since the start.</summary>
    public long Stalls => Interlocked.Read(ref _stalls);

    /// <summary>False while the process may have just woken from a stall, or within <c>distrustFor</c> after one.</summary>
    public bool Trusted
    {
        get
        {
            var now = Stopwatch.GetTimestamp();
            // The tick first: the detector writes the distrust before the tick that follows a stall.
            return now - Volatile.Read(ref _lastTick) < _stallLimit && now >= Volatile.Read(ref _distrustUntil);
        }
    }

    private void Run()
    {
        var previous = Stopwatch.GetTimestamp();
        while (!_stopping)
        {
            Thread.Sleep(TickInterval);
            var now = Stopwatch.GetTimestamp();
            if (now - previous >= _stallLimit)
            {
                Volatile.Write(ref _distrustUntil, now + _distrustFor);
                Interlocked.Increment(ref _stalls);
                LogStall(_logger, Stopwatch.GetElapsedTime(previous, now).TotalMilliseconds, TimeSpan.FromSeconds((double)_distrustFor / Stopwatch.Frequency).TotalMilliseconds);
            }
            Volatile.Write(ref _lastTick, now);
            previous = now;
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _thread.Join();
    }

    [LoggerMessage(178, LogLevel.Warning, "Router group: this process did not run for {Milliseconds:F0} ms (paused or starved); the leader lease is not trusted for the next {DistrustMs:F0} ms, writes and reads meanwhile answer Unavailable")]
    private static partial void LogStall(ILogger logger, double milliseconds, double distrustMs);
}

namespace KvnDb.Router.Groups;

/// <summary>
/// The key listings across groups in flight, by the slot-map epoch they started in. A listing filters each group's keys
/// by the map it read at its start (<see cref="SplitRequest.Owners"/>), and a node lists on a task of its own, over time:
/// a source that deleted the moved keys (a migration's cleanup) under a listing that still counts them as the source's
/// would leave them out. So a migration's cleanup first waits (<see cref="WaitForOlderAsync"/>) for the listings that
/// started before its switch (<see cref="Advance"/>). A listing enters before it reads the map, so one that entered
/// after the switch reads the switched map.
/// </summary>
internal sealed class ListingTracker
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, int> _inFlight = [];
    private long _epoch;
    private TaskCompletionSource _changed = NewSignal();

    /// <summary>A listing starts; the epoch it must <see cref="Exit"/> with.</summary>
    public long Enter()
    {
        lock (_lock)
        {
            _inFlight[_epoch] = _inFlight.GetValueOrDefault(_epoch) + 1;
            return _epoch;
        }
    }

    /// <summary>A listing has its answer (or failed).</summary>
    public void Exit(long epoch)
    {
        TaskCompletionSource changed;
        lock (_lock)
        {
            if (!_inFlight.TryGetValue(epoch, out var count))
                return;
            if (count == 1)
                _inFlight.Remove(epoch);
            else
                _inFlight[epoch] = count - 1;
            changed = _changed;
            _changed = NewSignal();
        }
        changed.TrySetResult();
    }

    /// <summary>The slot map has switched (after the swap): listings from now on read the new map. Returns the new epoch.</summary>
    public long Advance()
    {
        lock (_lock)
            return ++_epoch;
    }

    /// <summary>Completes once no listing that started before <paramref name="epoch"/> is in flight, or after <paramref name="timeout"/> (false).</summary>
    public async Task<bool> WaitForOlderAsync(long epoch, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (!_inFlight.Keys.Any(e => e < epoch))
                    return true;
                changed = _changed.Task;
            }
            try
            {
                await changed.WaitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return false;
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

namespace KvnDb.Testing;

/// <summary>
/// A count that tests can await: "wait until 100 writes were acknowledged" completes on the increment
/// that reaches 100, however slow the machine, instead of sleeping a fixed time and hoping.
/// </summary>
public sealed class AwaitableCounter
{
    private readonly List<(long Target, TaskCompletionSource Done)> _waiters = [];
    private long _value;
    private long _lowestTarget = long.MaxValue;
    private Exception? _fault;

    public long Value => Interlocked.Read(ref _value);

    public long Increment()
    {
        var value = Interlocked.Increment(ref _value);
        if (value >= Interlocked.Read(ref _lowestTarget))
            Release();
        return value;
    }

    /// <summary>Completes once the count is at least <paramref name="target"/>; fails if <see cref="Fail"/> is called first or after <paramref name="timeout"/>.</summary>
    public async Task WaitForAsync(long target, TimeSpan timeout)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            if (_fault is not null)
                throw new InvalidOperationException("the counted work failed", _fault);
            _waiters.Add((target, done));
            Interlocked.Exchange(ref _lowestTarget, Math.Min(_lowestTarget, target)); // a full fence before the value is read again
        }
        if (Value >= target)
            Release();
        try
        {
            await done.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"the count reached {Value}, not {target}, within {timeout}");
        }
    }

    /// <summary>Fails the waiters as soon as one of <paramref name="workers"/> (tasks doing the counted work) faults, instead of at their timeout.</summary>
    public void Observe(params Task[] workers)
    {
        // The continuation only records the fault (it cannot fault itself); when a worker succeeds it is cancelled, which nothing observes.
        foreach (var worker in workers)
            _ = worker.ContinueWith(static (task, counter) => ((AwaitableCounter)counter!).Fail(task.Exception!.GetBaseException()),
                this, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>The counted work failed: every waiter fails with <paramref name="error"/>, now and later.</summary>
    public void Fail(Exception error)
    {
        lock (_waiters)
        {
            _fault ??= error;
            foreach (var (_, done) in _waiters)
                done.TrySetException(new InvalidOperationException("the counted work failed", error));
            _waiters.Clear();
            Interlocked.Exchange(ref _lowestTarget, long.MaxValue);
        }
    }

    private void Release()
    {
        lock (_waiters)
        {
            var value = Value;
            var lowest = long.MaxValue;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Target <= value)
                {
                    _waiters[i].Done.TrySetResult();
                    _waiters.RemoveAt(i);
                }
                else
                {
                    lowest = Math.Min(lowest, _waiters[i].Target);
                }
            }
            Interlocked.Exchange(ref _lowestTarget, lowest);
        }
    }
}

namespace KvnDb.Chaos;

/// <summary>Open or shut; a shut gate holds everyone who waits on it until it opens again (a cut link and its heal).</summary>
internal sealed class LinkGate
{
    private readonly Lock _lock = new();
    private TaskCompletionSource _open = Opened();

    public bool IsOpen
    {
        get
        {
            lock (_lock)
                return _open.Task.IsCompleted;
        }
    }

    public void Shut()
    {
        lock (_lock)
        {
            if (_open.Task.IsCompleted)
                _open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public void Open()
    {
        lock (_lock)
            _open.TrySetResult();
    }

    public Task WaitOpenAsync(CancellationToken cancellationToken)
    {
        Task open;
        lock (_lock)
            open = _open.Task;
        return open.IsCompleted ? Task.CompletedTask : open.WaitAsync(cancellationToken);
    }

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }
}

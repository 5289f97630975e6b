using Microsoft.Extensions.Logging;

namespace KvnDb.Router;

/// <summary>
/// Tasks a component starts and does not await where it starts them (an admission, an eviction, the
/// adoption grace): an I/O thread must not wait on a metadata fsync. Each task is kept until it
/// ends, its fault is logged instead of going unobserved, and the owner's <see cref="DisposeAsync"/>
/// cancels the token the tasks were given and awaits every one still running.
/// </summary>
internal sealed partial class BackgroundWork(ILogger logger) : IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Dictionary<long, Task?> _running = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ILogger _logger = logger;
    private long _nextId;
    private bool _stopped;

    /// <summary>Tasks started and not yet ended.</summary>
    public int Running
    {
        get
        {
            lock (_lock)
                return _running.Count;
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> now, on the caller's thread up to its first await, and keeps it
    /// until it ends; <paramref name="what"/> names it in the log when it fails. Once stopping, new
    /// work is not started.
    /// </summary>
    public void Start(string what, Func<CancellationToken, Task> work)
    {
        long id;
        lock (_lock)
        {
            if (_stopped)
            {
                LogNotStarted(what);
                return;
            }
            id = ++_nextId;
            _running.Add(id, null); // counted before it runs, so a stop that comes meanwhile waits for it
        }
        var task = ObserveAsync(id, what, work);
        lock (_lock)
        {
            if (_running.ContainsKey(id))
                _running[id] = task;
        }
    }

    private async Task ObserveAsync(long id, string what, Func<CancellationToken, Task> work)
    {
        try
        {
            await work(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            // Stopping: the work was told to give up.
        }
        catch (Exception ex)
        {
            LogFailed(what, ex);
        }
        finally
        {
            lock (_lock)
            {
                _running.Remove(id);
                if (_stopped && _running.Count == 0)
                    _drained.TrySetResult();
            }
        }
    }

    /// <summary>Starts nothing more, cancels the running work's token and waits until every task has ended.</summary>
    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            if (_stopped)
                return;
            _stopped = true;
            if (_running.Count == 0)
                _drained.TrySetResult();
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _drained.Task.ConfigureAwait(false);
        _stopping.Dispose();
    }

    [LoggerMessage(90, LogLevel.Error, "Background work failed: {What}")]
    private partial void LogFailed(string what, Exception exception);

    [LoggerMessage(91, LogLevel.Debug, "Not started, stopping: {What}")]
    private partial void LogNotStarted(string what);
}

using System.Threading.Tasks.Sources;

namespace KvnDb.Transport;

/// <summary>
/// A socket's "ready again" edge, kept until someone waits for it: the epoll thread <see cref="Set"/>s it, one loop
/// awaits it. An edge that comes while nobody waits is remembered, so a loop that clears it before trying the socket
/// and waits after a short read or EAGAIN never misses one. Awaiting allocates nothing; the continuation runs on the
/// thread that sets the signal (the epoll thread).
/// </summary>
internal sealed class ReadinessSignal : IValueTaskSource
{
    private const int Idle = 0, Signalled = 1, Waiting = 2;
    private ManualResetValueTaskSourceCore<bool> _core; // mutable struct: never copied, never readonly
    private int _state;

    /// <summary>Forgets an edge seen so far: call before trying the socket, so an edge that comes after is kept.</summary>
    public void Clear() => Interlocked.CompareExchange(ref _state, Idle, Signalled);

    public void Set()
    {
        while (true)
        {
            var state = Volatile.Read(ref _state);
            if (state == Signalled)
                return;
            if (state == Waiting)
            {
                if (Interlocked.CompareExchange(ref _state, Idle, Waiting) == Waiting)
                {
                    _core.SetResult(true);
                    return;
                }
                continue;
            }
            if (Interlocked.CompareExchange(ref _state, Signalled, Idle) == Idle)
                return;
        }
    }

    /// <summary>Completes at once when an edge came since the last <see cref="Clear"/>, else at the next one.</summary>
    public ValueTask WaitAsync()
    {
        if (Interlocked.CompareExchange(ref _state, Idle, Signalled) == Signalled)
            return ValueTask.CompletedTask;
        _core.Reset();
        if (Interlocked.CompareExchange(ref _state, Waiting, Idle) == Idle)
            return new ValueTask(this, _core.Version);
        // An edge came between the two exchanges: take it.
        Volatile.Write(ref _state, Idle);
        return ValueTask.CompletedTask;
    }

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}

using Microsoft.Extensions.Logging;

namespace KvnDb.Transport;

/// <summary>The transport's I/O threads, started with the first listener and stopped with the host.</summary>
internal sealed class EpollLoopSet(int count, TimeSpan busyPoll, ILogger logger) : IDisposable
{
    private readonly Lock _lock = new();
    private EpollLoop[]? _loops;
    private int _next;

    public EpollLoop Next()
    {
        var loops = Volatile.Read(ref _loops) ?? Start();
        return loops[(int)((uint)Interlocked.Increment(ref _next) % (uint)loops.Length)];
    }

    private EpollLoop[] Start()
    {
        lock (_lock)
        {
            if (_loops is null)
            {
                var loops = new EpollLoop[Math.Max(1, count)];
                for (var i = 0; i < loops.Length; i++)
                    loops[i] = new EpollLoop($"kvndb-epoll-{i}", logger, busyPoll);
                Volatile.Write(ref _loops, loops);
            }
            return _loops;
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            foreach (var loop in _loops ?? [])
                loop.Dispose();
            _loops = null;
        }
    }
}

using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace KvnDb.Transport;

/// <summary>
/// One I/O thread: an edge-triggered epoll set of connections. Each wake-up hands every ready connection its edge (its
/// receive and the handler run right there), then runs the work the handlers deferred to the end of the wake-up
/// (<see cref="WakeBatch"/>: one send per node for all the clients that woke together). Between wake-ups it polls a
/// while before it sleeps (<see cref="PollBeforeSleep"/>).
/// </summary>
internal sealed unsafe partial class EpollLoop : IDisposable
{
    private const int MaxEvents = 256;
    private const ulong WakeToken = ulong.MaxValue;

    private readonly int _epoll;
    private readonly int _wake;
    private readonly Thread _thread;
    private readonly ILogger _logger;
    private readonly Lock _slotsLock = new();
    // Slot i holds a connection and its generation: an edge read from the kernel after the slot was reused is dropped.
    private EpollSocket?[] _slots = new EpollSocket?[64];
    private uint[] _generations = new uint[64];
    private readonly Stack<int> _free = new();
    private int _used;
    private volatile bool _stopping;
    private readonly Action<Exception> _reportFailure; // one delegate, not one per wake-up
    private readonly PollBeforeSleep _poll;

    /// <param name="name">The thread's name.</param>
    /// <param name="logger">Where a failed handler or a failed wait is reported.</param>
    /// <param name="busyPoll">The longest time to poll for the next event before sleeping (<see cref="PollBeforeSleep"/>); zero always sleeps.</param>
    public EpollLoop(string name, ILogger logger, TimeSpan busyPoll)
    {
        _poll = new PollBeforeSleep(busyPoll);
        _logger = logger;
        _reportFailure = ex => LogHandlerFailed(_logger, ex);
        _epoll = Check(EpollNative.epoll_create1(EpollNative.EPOLL_CLOEXEC), "epoll_create1");
        _wake = Check(EpollNative.eventfd(0, EpollNative.EFD_CLOEXEC | EpollNative.EFD_NONBLOCK), "eventfd");
        Check(EpollNative.Control(_epoll, EpollNative.EPOLL_CTL_ADD, _wake, EpollNative.EPOLLIN, WakeToken), "epoll_ctl");
        _thread = new Thread(Run) { IsBackground = true, Name = name };
        _thread.Start();
    }

    public void Register(EpollSocket connection)
    {
        int slot;
        uint generation;
        lock (_slotsLock)
        {
            if (!_free.TryPop(out slot))
            {
                slot = _used++;
                if (slot == _slots.Length)
                {
                    Array.Resize(ref _slots, slot * 2);
                    Array.Resize(ref _generations, slot * 2);
                }
            }
            generation = ++_generations[slot];
            Volatile.Write(ref _slots[slot], connection);
        }
        connection.Token = ((ulong)generation << 32) | (uint)slot;
        const uint events = EpollNative.EPOLLIN | EpollNative.EPOLLOUT | EpollNative.EPOLLRDHUP | EpollNative.EPOLLET;
        Check(EpollNative.Control(_epoll, EpollNative.EPOLL_CTL_ADD, connection.FileDescriptor, events, connection.Token), "epoll_ctl");
    }

    public void Unregister(EpollSocket connection)
    {
        // Before the socket closes: a closed descriptor's number may be reused by the next accept.
        EpollNative.Control(_epoll, EpollNative.EPOLL_CTL_DEL, connection.FileDescriptor, 0, 0);
        var slot = (int)(uint)connection.Token;
        lock (_slotsLock)
        {
            if (_slots[slot] != connection)
                return;
            Volatile.Write(ref _slots[slot], null);
            _free.Push(slot);
        }
    }

    private void Run()
    {
        var events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * EpollNative.EventSize));
        try
        {
            while (!_stopping)
            {
                var timeout = _poll.NextTimeout(Stopwatch.GetTimestamp());
                var ready = EpollNative.Wait(_epoll, events, MaxEvents, timeout);
                if (timeout == -1)
                    _poll.Woke(Stopwatch.GetTimestamp());
                if (ready == 0)
                {
                    // A poll found nothing: give the core to another thread that wants it (a node, a client), then poll on.
                    Thread.Yield();
                    continue;
                }
                if (ready < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EpollNative.EINTR)
                        continue;
                    var error = Marshal.GetLastPInvokeError();
                    LogLoopFailed(_logger, error);
                    return;
                }
                WakeBatch.Open();
                for (var i = 0; i < ready; i++)
                {
                    var token = EpollNative.DataAt(events, i);
                    if (token == WakeToken)
                        continue;
                    var slot = (int)(uint)token;
                    var slots = Volatile.Read(ref _slots);
                    if (slot >= slots.Length || Volatile.Read(ref slots[slot]) is not { } connection || connection.Token != token)
                        continue; // unregistered since the kernel queued the edge
                    try
                    {
                        connection.OnEvents(EpollNative.EventsAt(events, i));
                    }
                    catch (Exception ex)
                    {
                        LogHandlerFailed(_logger, ex);
                    }
                }
                WakeBatch.RunDeferredAndClose(_reportFailure);
                _poll.Handled(Stopwatch.GetTimestamp());
            }
        }
        finally
        {
            NativeMemory.Free(events);
        }
    }

    public void Dispose()
    {
        _stopping = true;
        ulong one = 1;
        EpollNative.write(_wake, (byte*)&one, sizeof(ulong));
        if (Thread.CurrentThread != _thread)
            _thread.Join();
        EpollNative.close(_wake);
        EpollNative.close(_epoll);
    }

    private static int Check(int result, string call) =>
        result >= 0 ? result : throw new Win32Exception(Marshal.GetLastPInvokeError(), $"{call} failed");

    [LoggerMessage(Level = LogLevel.Critical, Message = "epoll loop stopped: epoll_wait failed with errno {Errno}; connections on this loop no longer make progress")]
    private static partial void LogLoopFailed(ILogger logger, int errno);

    [LoggerMessage(Level = LogLevel.Error, Message = "A connection's handler failed on the epoll thread")]
    private static partial void LogHandlerFailed(ILogger logger, Exception error);
}

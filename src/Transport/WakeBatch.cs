namespace KvnDb.Transport;

/// <summary>
/// Work deferred to the end of one wake-up of an I/O loop (the epoll transport's <c>epoll_wait</c> batch): the node
/// flushes of every client that woke together leave in one send per node, after all of them were read. Off such a
/// loop (a thread-pool thread, Kestrel's socket transport) nothing is deferred and the caller queues the work itself.
/// </summary>
internal static class WakeBatch
{
    [ThreadStatic] private static List<IThreadPoolWorkItem>? t_deferred;
    [ThreadStatic] private static bool t_open;

    /// <summary>Queues <paramref name="work"/> for the end of the current wake-up; false when the thread is not in one.</summary>
    public static bool TryDefer(IThreadPoolWorkItem work)
    {
        if (!t_open)
            return false;
        (t_deferred ??= new List<IThreadPoolWorkItem>(64)).Add(work);
        return true;
    }

    /// <summary>The I/O loop starts handling the events of one wake-up on this thread.</summary>
    public static void Open() => t_open = true;

    /// <summary>
    /// The I/O loop handled them: runs what was deferred (and what that defers in turn), then closes. One failing item
    /// is reported and the others still run: a skipped node flush would leave writes unsent.
    /// </summary>
    public static void RunDeferredAndClose(Action<Exception> onError)
    {
        var deferred = t_deferred;
        if (deferred is not null)
        {
            // Indexed, not enumerated: deferred work may defer more (a flush that completes a reply batch).
            for (var i = 0; i < deferred.Count; i++)
            {
                try
                {
                    deferred[i].Execute();
                }
                catch (Exception ex)
                {
                    onError(ex);
                }
            }
            deferred.Clear();
        }
        t_open = false;
    }
}

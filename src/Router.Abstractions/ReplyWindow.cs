namespace KvnDb.Router;

/// <summary>
/// How many requests one client connection may have in flight now: a window that starts small and widens by one
/// per request answered while the client drains its output (doubling per round trip, as TCP's slow start), up to
/// <c>--max-inflight</c>, and never past the reply budget divided by the largest reply this client was sent or may be
/// sent for a request it is about to have admitted (<see cref="ReplySizes"/>), so a window widened on small replies
/// narrows before a burst of large ones reaches the node links.
/// Requests past the window wait in the client's socket (the router stops reading it), so a client that asks for
/// thousands of large values and never reads puts a few of them on the shared node links, not thousands: replies
/// travel the node links in order, and every other client's replies would queue behind them.
/// Updated from node-link threads without a lock: the races only make a bound a little late, never unbounded.
/// </summary>
internal sealed class ReplyWindow
{
    /// <summary>The window of a new connection: enough for the usual pipelines, small enough for large values.</summary>
    public const int Initial = 8;

    /// <summary>The smallest window the reply budget can impose (very large values still pipeline a little).</summary>
    public const int Floor = 2;

    private readonly int _max;
    private readonly long _budget;
    private int _limit;
    private int _cap;
    private int _largestReply;

    /// <param name="maxInFlight">The router's per-connection limit (<c>--max-inflight</c>), announced in the hello.</param>
    /// <param name="replyBudget">Reply bytes one client may have in flight on the node links (half the output limit).</param>
    public ReplyWindow(int maxInFlight, long replyBudget)
    {
        _max = Math.Max(1, maxInFlight);
        _budget = Math.Max(1, replyBudget);
        _cap = _max;
        _limit = Math.Min(Initial, _max);
    }

    /// <summary>Requests the client may have in flight now.</summary>
    public int Limit => Volatile.Read(ref _limit);

    /// <summary>The largest reply sent to this client so far, in bytes.</summary>
    public int LargestReply => Volatile.Read(ref _largestReply);

    /// <summary>
    /// A reply of <paramref name="bytes"/> went to the client, or may come for a request about to be admitted (its
    /// <see cref="ReplySizes"/> estimate): a larger one than before narrows the window at once.
    /// </summary>
    public void Observe(long bytes)
    {
        if (bytes <= Volatile.Read(ref _largestReply))
            return; // the common case: one read and a compare
        var size = (int)Math.Min(bytes, int.MaxValue);
        Volatile.Write(ref _largestReply, size);
        var cap = (int)Math.Clamp(_budget / size, Math.Min(Floor, _max), _max);
        Volatile.Write(ref _cap, cap);
        while (true)
        {
            var limit = Volatile.Read(ref _limit);
            if (limit <= cap || Interlocked.CompareExchange(ref _limit, cap, limit) == limit)
                return;
        }
    }

    /// <summary>
    /// A request was answered. While the client drains its output the window widens by one; a client whose output
    /// backed up starts again from <see cref="Initial"/> (it will not be read until it drains anyway).
    /// </summary>
    public void Completed(bool backedUp)
    {
        var limit = Volatile.Read(ref _limit);
        if (backedUp)
        {
            if (limit > Initial)
                Interlocked.CompareExchange(ref _limit, Initial, limit);
        }
        else if (limit < Volatile.Read(ref _cap))
        {
            Interlocked.CompareExchange(ref _limit, limit + 1, limit);
        }
    }
}

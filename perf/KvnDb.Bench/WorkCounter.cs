namespace KvnDb.Bench;

/// <summary>Hands out the <c>-n</c> requests of a test in batches and counts what completed (read by the progress line).</summary>
internal sealed class WorkCounter(long total)
{
    private long _unclaimed = total;
    private long _completed;

    public long Total { get; } = total;

    public long Completed => Volatile.Read(ref _completed);

    /// <summary>Up to <paramref name="batch"/> requests for one connection; 0 when the test is done.</summary>
    public int Claim(int batch)
    {
        while (true)
        {
            var left = Volatile.Read(ref _unclaimed);
            if (left <= 0)
                return 0;
            var take = (int)Math.Min(batch, left);
            if (Interlocked.CompareExchange(ref _unclaimed, left - take, left) == left)
                return take;
        }
    }

    public void Complete(int count) => Interlocked.Add(ref _completed, count);
}

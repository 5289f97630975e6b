using System.Diagnostics;

namespace KvnDb.Testing;

/// <summary>
/// Waits for a condition that has no event to await (a count kept by another component, a state
/// seen from outside): polls it, with a generous timeout so a bug fails instead of hanging. Prefer
/// awaiting the event itself when there is one; never wait a fixed time.
/// </summary>
public static class Eventually
{
    /// <summary>What every wait allows unless told otherwise: long enough for a loaded two-core machine.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    /// <summary>Completes once <paramref name="condition"/> holds; throws <see cref="TimeoutException"/> after <paramref name="timeout"/>.</summary>
    public static Task WaitAsync(Func<bool> condition, TimeSpan? timeout = null, string? what = null) =>
        WaitAsync(() => Task.FromResult(condition()), timeout, what);

    /// <summary>Completes once the asynchronous <paramref name="condition"/> holds (each check bounded by the same timeout).</summary>
    public static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string? what = null)
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (!await condition().WaitAsync(limit).ConfigureAwait(false))
        {
            if (clock.Elapsed > limit)
                throw new TimeoutException($"{what ?? "condition"} not reached within {limit}");
            await Task.Delay(PollInterval).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Runs <paramref name="action"/> until it does not throw an exception of type <typeparamref name="TException"/>
    /// (a router restarting, a node not serving yet), then returns its result; rethrows the last one after the timeout.
    /// </summary>
    public static async Task<T> SucceedsAsync<TException, T>(Func<Task<T>> action, TimeSpan? timeout = null)
        where TException : Exception
    {
        var limit = timeout ?? DefaultTimeout;
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                return await action().WaitAsync(limit).ConfigureAwait(false);
            }
            catch (TException) when (clock.Elapsed < limit)
            {
            }
            await Task.Delay(PollInterval).ConfigureAwait(false);
        }
    }

    /// <inheritdoc cref="SucceedsAsync{TException, T}(Func{Task{T}}, TimeSpan?)"/>
    public static Task SucceedsAsync<TException>(Func<Task> action, TimeSpan? timeout = null)
        where TException : Exception =>
        SucceedsAsync<TException, bool>(async () =>
        {
            await action().ConfigureAwait(false);
            return true;
        }, timeout);
}

namespace KvnDb.UnitTests.Testing;

/// <summary>The shared test library's counter: waits complete on the increment that reaches them, never early, never lost.</summary>
public sealed class AwaitableCounterTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_wait_completes_on_the_increment_that_reaches_its_target_and_not_before()
    {
        var counter = new AwaitableCounter();
        counter.Increment();
        var wait = counter.WaitForAsync(3, Timeout);
        counter.Increment();
        Assert.False(wait.IsCompleted);
        counter.Increment();
        await wait.WaitAsync(Timeout);
        await counter.WaitForAsync(2, Timeout).WaitAsync(Timeout); // already reached
    }

    [Fact]
    public async Task Many_waiters_and_concurrent_increments_lose_no_wake_up()
    {
        var counter = new AwaitableCounter();
        var waits = Enumerable.Range(1, 200).Select(target => counter.WaitForAsync(target * 50, Timeout)).ToArray();
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            for (var i = 0; i < 2500; i++)
                counter.Increment();
        }))).WaitAsync(Timeout);
        await Task.WhenAll(waits).WaitAsync(Timeout);
        Assert.Equal(10_000, counter.Value);
    }

    [Fact]
    public async Task A_wait_that_is_not_reached_times_out_saying_how_far_it_got()
    {
        var counter = new AwaitableCounter();
        counter.Increment();
        var error = await Assert.ThrowsAsync<TimeoutException>(() => counter.WaitForAsync(5, TimeSpan.FromMilliseconds(50)));
        Assert.Contains("reached 1, not 5", error.Message);
    }

    [Fact]
    public async Task A_faulted_worker_fails_the_waits_at_once_with_its_exception()
    {
        var counter = new AwaitableCounter();
        var wait = counter.WaitForAsync(10, Timeout);
        counter.Observe(Task.Run(() => throw new InvalidDataException("boom")));
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => wait.WaitAsync(Timeout));
        Assert.IsType<InvalidDataException>(error.InnerException);
        await Assert.ThrowsAsync<InvalidOperationException>(() => counter.WaitForAsync(1, Timeout));
    }
}

using KvnDb.Router.Groups;

namespace KvnDb.UnitTests.Router;

/// <summary>
/// A migration's cleanup waits for the key listings that started before its switch (they filter by the old map, which
/// gives the moved slots to the source), and not for those that started after it.
/// </summary>
public sealed class ListingTrackerTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task The_wait_ends_when_the_last_listing_older_than_the_switch_ends()
    {
        var tracker = new ListingTracker();
        var before = tracker.Enter();
        var alsoBefore = tracker.Enter();
        var switched = tracker.Advance();
        var after = tracker.Enter();

        var wait = tracker.WaitForOlderAsync(switched, Long, CancellationToken.None);
        Assert.False(wait.IsCompleted);
        tracker.Exit(before);
        Assert.False(wait.IsCompleted);
        tracker.Exit(alsoBefore);
        Assert.True(await wait.WaitAsync(Long)); // the listing that started after the switch does not hold it
        tracker.Exit(after);
        Assert.True(await tracker.WaitForOlderAsync(tracker.Advance(), Long, CancellationToken.None));
    }

    [Fact]
    public async Task The_wait_is_bounded_and_a_restarted_cleanup_does_not_wait()
    {
        var tracker = new ListingTracker();
        _ = tracker.Enter(); // never ends (a listing whose part never answers)
        var switched = tracker.Advance();
        Assert.False(await tracker.WaitForOlderAsync(switched, TimeSpan.FromMilliseconds(50), CancellationToken.None));
        Assert.True(await new ListingTracker().WaitForOlderAsync(0, Long, CancellationToken.None)); // resumed from a record
    }
}

using KvnDb.Router;

namespace KvnDb.UnitTests.Router;

public sealed class ReplyWindowTests
{
    [Fact]
    public void A_new_client_starts_small_and_widens_by_one_per_answer_up_to_the_router_limit()
    {
        var window = new ReplyWindow(maxInFlight: 20, replyBudget: 64L << 20);
        Assert.Equal(ReplyWindow.Initial, window.Limit);
        for (var i = 0; i < 100; i++)
            window.Completed(backedUp: false);
        Assert.Equal(20, window.Limit);
    }

    [Fact]
    public void A_large_reply_narrows_the_window_to_the_reply_budget_at_once()
    {
        var window = new ReplyWindow(maxInFlight: 4096, replyBudget: 64L << 20);
        for (var i = 0; i < 5000; i++)
            window.Completed(backedUp: false);
        Assert.Equal(4096, window.Limit);
        window.Observe(1 << 20);
        Assert.Equal(64, window.Limit); // 64 MiB of replies in flight at most
        for (var i = 0; i < 1000; i++)
            window.Completed(backedUp: false);
        Assert.Equal(64, window.Limit);
        window.Observe(100); // smaller replies do not widen it again
        Assert.Equal(64, window.Limit);
        window.Observe(256L << 20);
        Assert.Equal(ReplyWindow.Floor, window.Limit);
    }

    [Fact]
    public void A_client_that_leaves_its_output_unread_starts_again_from_the_initial_window()
    {
        var window = new ReplyWindow(maxInFlight: 4096, replyBudget: 64L << 20);
        for (var i = 0; i < 100; i++)
            window.Completed(backedUp: false);
        Assert.True(window.Limit > ReplyWindow.Initial);
        window.Completed(backedUp: true);
        Assert.Equal(ReplyWindow.Initial, window.Limit);
        window.Completed(backedUp: true);
        Assert.Equal(ReplyWindow.Initial, window.Limit);
    }

    [Fact]
    public void A_router_limit_below_the_initial_window_is_the_window()
    {
        var window = new ReplyWindow(maxInFlight: 1, replyBudget: 64L << 20);
        Assert.Equal(1, window.Limit);
        window.Observe(1L << 30);
        Assert.Equal(1, window.Limit);
    }
}
